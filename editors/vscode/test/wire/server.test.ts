/**
 * Wire-level test: the real Python server driven by vscode-languageserver-protocol, the
 * protocol library VS Code's language client is built on (same JSON-RPC framing, same
 * request types, same cancellation). Needs:
 *   SLM_LSP_TEST_MODEL   path to a GGUF model (the embedded Gemma 3 270M in CI)
 *   SLM_LSP_TEST_PYTHON  Python with slm_lsp installed (default: python3)
 *   SLM_LSP_TEST_ROOT    directory to run the server in (default: the repository root)
 *   SLM_LSP_TEST_SERVER_ARGS  JSON list of arguments after Python (default: ["-m", "slm_lsp", "serve"])
 * Without SLM_LSP_TEST_MODEL every test is skipped with that reason.
 */

import assert from 'node:assert/strict';
import { ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  CancellationTokenSource,
  CodeAction,
  CodeActionRequest,
  Command,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExecuteCommandRequest,
  InitializeRequest,
  InitializeResult,
  InitializedNotification,
  InlineCompletionList,
  InlineCompletionRequest,
  InlineCompletionTriggerKind,
  LSPErrorCodes,
  Message,
  ProtocolConnection,
  ResponseError,
  ResponseMessage,
  ShutdownRequest,
  ExitNotification,
  StreamMessageReader,
  StreamMessageWriter,
  WorkDoneProgress,
  WorkDoneProgressCreateRequest,
  createProtocolConnection,
} from 'vscode-languageserver-protocol/node';

import { ACCEPTED_COMMAND, PREFETCH_METHOD, prefetchParams } from '../../src/prefetch';

const MODEL = process.env.SLM_LSP_TEST_MODEL;
const PYTHON = process.env.SLM_LSP_TEST_PYTHON ?? 'python3';
const ROOT = process.env.SLM_LSP_TEST_ROOT ?? path.resolve(__dirname, '..', '..', '..', '..', '..');
// Arguments after the Python executable; JSON in SLM_LSP_TEST_SERVER_ARGS overrides them.
const SERVER_ARGS: string[] = JSON.parse(process.env.SLM_LSP_TEST_SERVER_ARGS ?? '["-m", "slm_lsp", "serve"]');
const SKIP = MODEL ? false : 'SLM_LSP_TEST_MODEL is not set (run through tests/editors/test_vscode.py)';

const ADD = 'def add(a, b):\n    return\n';
const FIZZBUZZ =
  'def fizzbuzz(n):\n    """Return "Fizz", "Buzz", "FizzBuzz" or the number."""\n    if n % 15 == 0:\n        return "FizzBuzz"\n';
const LONG_GENERATION = 1500; // maxTokensMulti: far longer than the test's cancel delay

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Server {
  process: ChildProcessWithoutNullStreams;
  connection: ProtocolConnection;
  /** Every message the server wrote, read by a second reader on the same stdout. */
  received: Message[];
  progress: Map<string, WorkDoneProgressValue[]>;
  serverRequests: Array<{ method: string; params: unknown }>;
  stderr: string[];
  initializeResult: InitializeResult;
}

type WorkDoneProgressValue = { kind: string; title?: string; message?: string; percentage?: number };

async function startServer(initializationOptions: Record<string, unknown>): Promise<Server> {
  const child = spawn(PYTHON, [...SERVER_ARGS, '--model', MODEL as string], {
    cwd: ROOT,
    env: { ...process.env, SLM_LSP_MODEL: '' },
  });
  const stderr: string[] = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => stderr.push(chunk));
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const received: Message[] = [];
  new StreamMessageReader(child.stdout).listen((message) => received.push(message));
  const progress = new Map<string, WorkDoneProgressValue[]>();
  const serverRequests: Array<{ method: string; params: unknown }> = [];
  connection.onRequest(WorkDoneProgressCreateRequest.type, (params) => {
    const token = String(params.token);
    progress.set(token, []);
    connection.onProgress(WorkDoneProgress.type, params.token, (value) => {
      progress.get(token)?.push(value);
    });
  });
  // What else a server may ask of VS Code is recorded and accepted, as VS Code would.
  const answers: Record<string, unknown> = {
    'workspace/applyEdit': { applied: true },
    'window/showDocument': { success: true },
    'window/showMessageRequest': null,
    'workspace/configuration': [],
  };
  for (const [method, answer] of Object.entries(answers)) {
    connection.onRequest(method, (params: unknown) => {
      serverRequests.push({ method, params });
      return answer;
    });
  }
  for (const method of ['window/showMessage', 'window/logMessage', 'telemetry/event']) {
    connection.onNotification(method, (params: unknown) => {
      serverRequests.push({ method, params });
    });
  }
  connection.listen();
  const initializeResult = await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: null,
    workspaceFolders: null,
    initializationOptions,
    capabilities: {
      window: { workDoneProgress: true, showDocument: { support: true } },
      general: { positionEncodings: ['utf-16'] },
      workspace: { applyEdit: true, executeCommand: { dynamicRegistration: false } },
      textDocument: {
        synchronization: { dynamicRegistration: false },
        inlineCompletion: { dynamicRegistration: false },
        codeAction: {
          codeActionLiteralSupport: { codeActionKind: { valueSet: ['', 'quickfix', 'refactor', 'refactor.rewrite', 'source'] } },
        },
      },
    },
  });
  await connection.sendNotification(InitializedNotification.type, {});
  return { process: child, connection, received, progress, serverRequests, stderr, initializeResult };
}

async function status(server: Server): Promise<Record<string, any>> {
  return server.connection.sendRequest('slm/status', {});
}

async function waitReady(server: Server): Promise<Record<string, any>> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const current = await status(server);
    if (current.state === 'ready' || current.state === 'failed') {
      return current;
    }
    assert.ok(Date.now() < deadline, `model never loaded: ${JSON.stringify(current)}`);
    await sleep(100);
  }
}

function open(server: Server, uri: string, text: string): Promise<void> {
  return server.connection.sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: 'python', version: 1, text },
  });
}

function inline(server: Server, uri: string, line: number, character: number, token?: CancellationTokenSource) {
  return server.connection.sendRequest(
    InlineCompletionRequest.type,
    {
      textDocument: { uri },
      position: { line, character },
      context: { triggerKind: InlineCompletionTriggerKind.Automatic },
    },
    token?.token,
  );
}

/** Runs the Python source with `insert` placed at (line, character); returns add(2, 3). */
function runAdd(source: string, insert: string, line: number, character: number): string {
  const lines = source.split('\n');
  lines[line] = lines[line].slice(0, character) + insert + lines[line].slice(character);
  const program = `${lines.join('\n')}\nprint(add(2, 3))\n`;
  return execFileSync(PYTHON, ['-c', program], { encoding: 'utf8', timeout: 30_000 }).trim();
}

describe('slm-lsp over vscode-languageserver-protocol', { skip: SKIP }, () => {
  let server: Server;

  before(async () => {
    // No time budgets: the answers must not depend on how busy the machine is.
    server = await startServer({
      maxTokensMulti: LONG_GENERATION,
      adaptiveBudgets: false,
      maxGenerationSeconds: 0,
      maxPromptSeconds: 0,
    });
  });

  after(async () => {
    if (!server) {
      return;
    }
    const exited = new Promise<number | null>((resolve) => server.process.once('exit', (code) => resolve(code)));
    try {
      await server.connection.sendRequest(ShutdownRequest.type);
      await server.connection.sendNotification(ExitNotification.type);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 15_000)));
      const code = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      assert.equal(code, 0, `server exit: ${code}\n${server.stderr.join('')}`);
    } finally {
      server.connection.dispose();
      server.process.kill();
    }
  });

  test('advertises inline completions and reports model loading with $/progress', async () => {
    const capabilities = server.initializeResult.capabilities;
    assert.ok(capabilities.inlineCompletionProvider, 'no inlineCompletionProvider');
    const settled = await waitReady(server);
    assert.equal(settled.state, 'ready', JSON.stringify(settled));
    assert.equal(typeof settled.model, 'string');
    const runs = [...server.progress.values()].filter((values) => /load/i.test(values[0]?.title ?? ''));
    assert.equal(runs.length, 1, `one progress token for the model load: ${JSON.stringify([...server.progress])}`);
    const values = runs[0];
    assert.equal(values[0].kind, 'begin');
    assert.match(values[0].title ?? '', /load/i);
    assert.equal(values[values.length - 1].kind, 'end');
    assert.equal(values[values.length - 1].message, 'model ready');
    const percentages = values.map((v) => v.percentage).filter((p): p is number => typeof p === 'number');
    assert.deepEqual(percentages, [...percentages].sort((a, b) => a - b), 'progress never goes backwards');
  });

  test('an inline completion makes the function correct', async () => {
    await waitReady(server);
    const uri = 'file:///work/add.py';
    await open(server, uri, ADD);
    const result = (await inline(server, uri, 1, 10)) as InlineCompletionList;
    assert.ok(result && Array.isArray(result.items), JSON.stringify(result));
    assert.equal(result.items.length, 1);
    const item = result.items[0];
    assert.deepEqual(item.range, { start: { line: 1, character: 10 }, end: { line: 1, character: 10 } });
    assert.equal(typeof item.insertText, 'string');
    assert.equal(runAdd(ADD, item.insertText as string, 1, 10), '5', `suggestion: ${JSON.stringify(item.insertText)}`);
    const after = await status(server);
    assert.equal(after.last.stopReason, 'stop');
    assert.ok(after.last.prompt_ms + after.last.generation_ms > 0);
  });

  test('$/cancelRequest: the server answers RequestCancelled and stops generating', async () => {
    await waitReady(server);
    const uri = 'file:///work/fizzbuzz.py';
    await open(server, uri, FIZZBUZZ);
    const lastBefore = JSON.stringify((await status(server)).last);
    const source = new CancellationTokenSource();
    const before = server.received.length;
    const started = Date.now();
    const pending = inline(server, uri, 4, 0, source);
    await sleep(500);
    source.cancel();
    await assert.rejects(pending, (error: unknown) => {
      assert.ok(error instanceof ResponseError, String(error));
      assert.equal(error.code, LSPErrorCodes.RequestCancelled);
      return true;
    });
    // The error is the server's own response on the wire, not a client-side shortcut.
    const responses = server.received
      .slice(before)
      .filter((m): m is ResponseMessage => 'id' in m && ('result' in m || 'error' in m));
    const cancelled = responses.filter((m) => m.error?.code === LSPErrorCodes.RequestCancelled);
    assert.equal(cancelled.length, 1, JSON.stringify(responses));
    assert.ok(Date.now() - started < 20_000, 'the cancelled request was answered late');
    // The generation itself stopped well short of its 1500-token budget.
    const deadline = Date.now() + 20_000;
    let last: Record<string, any> = {};
    while (JSON.stringify((last = (await status(server)).last ?? {})) === lastBefore) {
      assert.ok(Date.now() < deadline, 'the cancelled generation never ended');
      await sleep(100);
    }
    assert.equal(last.stopReason, 'cancelled');
    assert.ok(last.generated_tokens < LONG_GENERATION, JSON.stringify(last));
    // And the worker is free again.
    const again = (await inline(server, 'file:///work/add.py', 1, 10)) as InlineCompletionList;
    assert.equal(again.items.length, 1);
  });

  test('a code action runs its slm. command through workspace/executeCommand', async (t) => {
    const capabilities = server.initializeResult.capabilities;
    if (!capabilities.codeActionProvider || !capabilities.executeCommandProvider) {
      t.skip('the server advertises no codeActionProvider/executeCommandProvider yet');
      return;
    }
    const commands = capabilities.executeCommandProvider.commands;
    assert.ok(commands.length > 0 && commands.every((c) => c.startsWith('slm.')), JSON.stringify(commands));
    await waitReady(server);
    const uri = 'file:///work/add.py';
    const range = { start: { line: 0, character: 0 }, end: { line: 1, character: 10 } };
    const actions = (await server.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range,
      context: { diagnostics: [], triggerKind: 1 },
    })) as Array<Command | CodeAction> | null;
    assert.ok(actions && actions.length > 0, 'no code action for a selected function');
    const commandOf = (a: Command | CodeAction): Command | undefined =>
      Command.is(a) ? a : CodeAction.is(a) ? a.command : undefined;
    const runnable = actions.map(commandOf).filter((c): c is Command => !!c && c.command.startsWith('slm.'));
    assert.ok(runnable.length > 0, `no slm. command among ${JSON.stringify(actions)}`);
    for (const command of runnable) {
      assert.ok(commands.includes(command.command), `${command.command} is not in executeCommandProvider.commands`);
    }
    const command = runnable[0];
    const before = server.serverRequests.length;
    const result = await server.connection.sendRequest(ExecuteCommandRequest.type, {
      command: command.command,
      arguments: command.arguments,
    });
    // The command must have an effect: a result, or a request/notification to the editor.
    const effects = server.serverRequests.slice(before).filter((r) => r.method !== '$/progress' && r.method !== 'window/logMessage');
    assert.ok(
      (result !== null && result !== undefined) || effects.length > 0,
      `${command.command} returned nothing and told the editor nothing`,
    );
  });

  test('prefetch, then accepting an item runs slm.acceptedCompletion and the next suggestion is ready', async () => {
    const commands = server.initializeResult.capabilities.executeCommandProvider?.commands ?? [];
    assert.ok(commands.includes(ACCEPTED_COMMAND), JSON.stringify(commands));
    await waitReady(server);
    const uri = 'file:///work/accept.py';
    await open(server, uri, ADD);
    // What the extension sends when the cursor rests: a notification, never answered.
    await server.connection.sendNotification(PREFETCH_METHOD, prefetchParams(uri, 1, 10));
    const result = (await inline(server, uri, 1, 10)) as InlineCompletionList;
    assert.equal(result.items.length, 1, JSON.stringify(result));
    const item = result.items[0];
    assert.ok(item.command, `no command on ${JSON.stringify(item)}`);
    assert.equal(item.command.command, ACCEPTED_COMMAND);
    const [accept] = item.command.arguments as Array<{ uri: string; line: number; character: number; text: string }>;
    assert.deepEqual(accept, { uri, line: 1, character: 10, text: item.insertText });
    // Tab in VS Code: the text is inserted, then the item's command runs through executeCommand.
    const text = item.insertText as string;
    await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: 2 },
      contentChanges: [{ range: { start: { line: 1, character: 10 }, end: { line: 1, character: 10 } }, text }],
    });
    await server.connection.sendRequest(ExecuteCommandRequest.type, { command: ACCEPTED_COMMAND, arguments: [accept] });
    const lines = text.split('\n');
    const line = 1 + lines.length - 1;
    const character = (lines.length === 1 ? 10 : 0) + lines[lines.length - 1].length;
    await inline(server, uri, line, character);
    assert.equal((await status(server)).last.stopReason, 'cache', 'the suggestion after the accept was computed again');
  });

  test('an unknown document is an InvalidParams error and the server keeps serving', async () => {
    await assert.rejects(inline(server, 'file:///work/never-opened.py', 0, 0), (error: unknown) => {
      assert.ok(error instanceof ResponseError);
      assert.equal(error.code, -32602);
      assert.match(error.message, /not open/);
      return true;
    });
    assert.equal((await status(server)).state, 'ready');
  });
});
