/**
 * VS Code glue: starts `slm-lsp serve` through vscode-languageclient (whose built-in
 * InlineCompletionItemFeature turns the server's `textDocument/inlineCompletion` into
 * VS Code ghost text), keeps the status-bar item current and registers the commands.
 * All decisions live in config.ts, status.ts and messages.ts, which have no `vscode`
 * import and are unit-tested; this file only wires them to the editor.
 */

import * as readline from 'node:readline';
import type { Readable } from 'node:stream';

import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';

import {
  Expansion,
  SECTION,
  Settings,
  initializationOptions,
  isLanguageEnabled,
  needsRestart,
  readSettings,
  serverExecutable,
  startFailureMessage,
  toggleLanguage,
} from './config';
import {
  STATUS_METHOD,
  WHY_EXCLUDED_METHOD,
  Shown,
  commandResultText,
  describeWhyExcluded,
  describeWhyExcludedError,
  errorMessage,
  isCancellation,
} from './messages';
import { Debouncer, PREFETCH_METHOD, PrefetchParams, prefetchParams } from './prefetch';
import { ServerLogReader, StderrTail } from './serverlog';
import { NextEditView } from './nexteditview';
import { StatusModel } from './status';
import { EditFlow } from './edit';

export const COMMANDS = {
  restartServer: 'slmLsp.restartServer',
  whyExcluded: 'slmLsp.whyExcluded',
  showStatus: 'slmLsp.showStatus',
  toggleLanguage: 'slmLsp.toggleLanguage',
  showOutput: 'slmLsp.showOutput',
  explainSelection: 'slmLsp.explainSelection',
} as const;

/** The server's code-action kind for "Explain selection"; not a quick fix, so Ctrl+. does not list it. */
const EXPLAIN_KIND = 'slm.explain';

const CLIENT_ID = 'slmLsp'; // vscode-languageclient reads `${CLIENT_ID}.trace.server`
const POLL_MS = 500;
/** Documents synced to the server; `slm/prefetch` is sent for these only. */
const DOCUMENT_SELECTOR: { scheme: string }[] = [{ scheme: 'file' }, { scheme: 'untitled' }];
/** Restarts after a crash of a server that had been running, as vscode-languageclient's default. */
const MAX_RESTARTS = 4;

/** Each line of a server stream, as it arrives. */
function eachLine(input: Readable, onLine: (line: string) => void): void {
  readline.createInterface({ input, crlfDelay: Infinity, terminal: false, historySize: 0 }).on('line', onLine);
}

let controller: Controller | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  controller = new Controller(context);
  context.subscriptions.push(controller);
  await controller.start();
}

export async function deactivate(): Promise<void> {
  await controller?.stop();
  controller = undefined;
}

class Controller implements vscode.Disposable {
  private readonly output: vscode.LogOutputChannel;
  private readonly item: vscode.StatusBarItem;
  private readonly status = new StatusModel();
  private readonly disposables: vscode.Disposable[] = [];
  private client: LanguageClient | undefined;
  private settings: Settings;
  private pollTimer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private generation = 0; // bumps on every (re)start so late callbacks of an old client are ignored
  private readonly stderrTail = new StderrTail();
  private readonly prefetch = new Debouncer<PrefetchParams>((params) => this.sendPrefetch(params));
  private readonly editFlow = new EditFlow();

  constructor(private readonly context: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('slm-lsp', { log: true });
    this.item = vscode.window.createStatusBarItem('slmLsp.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'slm-lsp';
    this.item.command = COMMANDS.showStatus;
    this.settings = this.readSettings(true);
    this.disposables.push(
      this.output,
      this.item,
      this.editFlow.register(),
      vscode.commands.registerCommand(COMMANDS.restartServer, () => this.restart()),
      vscode.commands.registerCommand(COMMANDS.whyExcluded, (uri?: vscode.Uri) => this.whyExcluded(uri)),
      vscode.commands.registerCommand(COMMANDS.showStatus, () => this.showStatus()),
      vscode.commands.registerCommand(COMMANDS.toggleLanguage, (languageId?: string) => this.toggleLanguage(languageId)),
      vscode.commands.registerCommand(COMMANDS.showOutput, () => this.output.show(true)),
      vscode.commands.registerCommand(COMMANDS.explainSelection, () => this.explainSelection()),
      vscode.workspace.onDidChangeConfiguration((event) => this.configurationChanged(event)),
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        this.render();
        this.cursorRests(editor);
      }),
      vscode.window.onDidChangeTextEditorSelection((event) => this.cursorRests(event.textEditor)),
      { dispose: () => this.prefetch.clear() },
      new NextEditView(() => this.client, (document) => vscode.languages.match(DOCUMENT_SELECTOR, document) > 0, this.output),
    );
    this.render();
    this.item.show();
  }

  private expansion(): Expansion {
    return { workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath };
  }

  private readSettings(report: boolean): Settings {
    const configuration = vscode.workspace.getConfiguration(SECTION);
    const { settings, problems } = readSettings((key) => configuration.get(key));
    if (report && problems.length > 0) {
      for (const problem of problems) {
        this.output.warn(problem);
      }
      void vscode.window.showWarningMessage(`slm-lsp: ${problems[0]}` + (problems.length > 1 ? ` (and ${problems.length - 1} more in the log)` : ''));
    }
    return settings;
  }

  async start(): Promise<void> {
    const generation = ++this.generation;
    this.status.starting();
    this.render();
    const expansion = this.expansion();
    const executable = serverExecutable(this.settings, expansion);
    // No `transport`: the client then spawns the command as given and talks over stdio,
    // without appending `--stdio` (which an older slm-lsp refuses).
    const serverOptions: ServerOptions = { command: executable.command, args: executable.args };
    this.stderrTail.clear();
    let running = false;
    let restarts = 0;
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: initializationOptions(this.settings, expansion),
      stdioOptions: {
        stdout: (input, channel) => eachLine(input, (line) => channel.info(line)),
        stderr: (input, channel) => {
          const reader = new ServerLogReader();
          eachLine(input, (line) => {
            this.stderrTail.push(line);
            const { level, text } = reader.read(line);
            channel[level](text);
          });
        },
      },
      // No retry and no bare "Pending response rejected" toast: start() explains the failure.
      initializationFailedHandler: () => false,
      errorHandler: {
        error: (_error, _message, count) => ({ action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: false }),
        // A server that never got running is not restarted: start() explains why it failed.
        closed: () =>
          running && ++restarts <= MAX_RESTARTS
            ? { action: CloseAction.Restart, handled: false }
            : { action: CloseAction.DoNotRestart, handled: !running },
      },
      middleware: {
        provideInlineCompletionItems: async (document, position, context, token, next) => {
          if (!isLanguageEnabled(this.settings.enable, document.languageId)) {
            return null;
          }
          const started = Date.now();
          try {
            const result = await next(document, position, context, token);
            if (!token.isCancellationRequested && generation === this.generation) {
              this.status.roundTripMs = Date.now() - started;
              this.refreshStatusSoon();
            }
            return result;
          } catch (error) {
            if (isCancellation(error) || token.isCancellationRequested) {
              return null; // VS Code cancelled it because the user kept typing
            }
            throw error;
          }
        },
        handleWorkDoneProgress: (token, params, next) => {
          if (generation === this.generation && this.status.progress(token, params)) {
            this.render();
            if (params.kind === 'end') {
              void this.refreshStatus();
            }
          }
          next(token, params);
        },
        executeCommand: async (command, args, next) => {
          if (this.editFlow.handles(command)) {
            return this.editFlow.run(args, async (name, values) => next(name, values));
          }
          // The server shows what a code action produced itself (window/showDocument,
          // showMessage, applyEdit); its result is kept in the log for reference.
          const result = await next(command, args);
          const text = commandResultText(result);
          if (text !== undefined) {
            this.output.info(`${command}:\n${text}`);
          }
          return result;
        },
      },
    };
    const client = new LanguageClient(CLIENT_ID, 'slm-lsp', serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState((event) => {
      if (generation !== this.generation) {
        return;
      }
      if (event.newState === State.Stopped) {
        this.stopPolling();
        if (this.status.phase !== 'startFailed') {
          this.status.stopped();
        }
        this.render();
      } else if (event.newState === State.Starting) {
        this.status.starting();
        this.render();
      } else if (event.newState === State.Running) {
        // A restart by the client's own error handler lands here too.
        running = true;
        this.startPolling();
      }
    });
    try {
      await client.start();
    } catch (error) {
      if (generation !== this.generation) {
        return;
      }
      const message = startFailureMessage(executable, error, this.stderrTail.text());
      this.output.error(message);
      this.status.startFailed(message);
      this.render();
      void vscode.window.showErrorMessage(`slm-lsp: ${message}`, 'Open Settings', 'Show Log').then((choice) => {
        if (choice === 'Open Settings') {
          void vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.server.command`);
        } else if (choice === 'Show Log') {
          this.output.show(true);
        }
      });
      return;
    }
    await this.refreshStatus();
    this.startPolling();
  }

  async stop(): Promise<void> {
    this.generation++;
    this.stopPolling();
    this.prefetch.clear();
    if (this.refreshTimer) {
      clearTimeout(this.refreshTimer);
      this.refreshTimer = undefined;
    }
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        if (client.needsStop()) {
          await client.stop(5000);
        }
      } catch (error) {
        this.output.warn(`stopping the server: ${errorMessage(error)}`);
      }
      await client.dispose().catch(() => undefined);
    }
  }

  async restart(): Promise<void> {
    this.output.info('restarting the server');
    await this.stop();
    this.settings = this.readSettings(false);
    await this.start();
  }

  /** The cursor moved or another editor became active: prefetch there once it rests. */
  private cursorRests(editor: vscode.TextEditor | undefined): void {
    if (!editor || vscode.languages.match(DOCUMENT_SELECTOR, editor.document) === 0) {
      return; // not a document the client syncs: the server does not know it
    }
    const client = this.client;
    if (!client || !client.isRunning()) {
      return;
    }
    const position = editor.selection.active;
    this.prefetch.push(prefetchParams(client.code2ProtocolConverter.asUri(editor.document.uri), position.line, position.character));
  }

  private sendPrefetch(params: PrefetchParams): void {
    const client = this.client;
    if (client?.isRunning()) {
      client.sendNotification(PREFETCH_METHOD, params).catch((error: unknown) => {
        this.output.debug(`${PREFETCH_METHOD} not sent: ${errorMessage(error)}`);
      });
    }
  }

  /**
   * The model just became ready: a request made while it loaded was answered empty, and VS
   * Code asks again only on the next key. Ask now, so a user who typed during the load sees
   * the suggestion at the cursor without typing again. An explicit trigger shows ghost text
   * even where the user switched inline suggestions off, so that setting is asked first.
   */
  private askAgainAtTheCursor(): void {
    const editor = vscode.window.activeTextEditor;
    if (
      editor &&
      vscode.languages.match(DOCUMENT_SELECTOR, editor.document) > 0 &&
      isLanguageEnabled(this.settings.enable, editor.document.languageId) &&
      vscode.workspace.getConfiguration('editor', editor.document).get<boolean>('inlineSuggest.enabled', true)
    ) {
      void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    }
  }

  /** Poll `slm/status` while the model loads (progress notifications may be missed). */
  private startPolling(): void {
    this.stopPolling();
    const generation = this.generation;
    const tick = async () => {
      if (generation !== this.generation) {
        return;
      }
      await this.refreshStatus();
      if (generation === this.generation && !this.status.settled && this.client?.isRunning()) {
        this.pollTimer = setTimeout(tick, POLL_MS);
      }
    };
    this.pollTimer = setTimeout(tick, this.status.settled ? 0 : POLL_MS);
  }

  private stopPolling(): void {
    if (this.pollTimer) {
      clearTimeout(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  private refreshStatusSoon(): void {
    if (this.refreshTimer) {
      return;
    }
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refreshStatus();
    }, 150);
  }

  private async refreshStatus(): Promise<void> {
    const client = this.client;
    const generation = this.generation;
    if (!client || !client.isRunning()) {
      return;
    }
    try {
      const result = await client.sendRequest(STATUS_METHOD, {});
      if (generation === this.generation) {
        const before = this.status.phase;
        this.status.status(result);
        if (this.status.phase === 'failed' && before !== 'failed') {
          this.output.error(`model: ${this.status.error}`);
        }
        if (this.status.phase === 'ready' && (before === 'loading' || before === 'starting')) {
          this.askAgainAtTheCursor();
        }
      }
    } catch (error) {
      this.output.warn(`${STATUS_METHOD} failed: ${errorMessage(error)}`);
    }
    this.render();
  }

  private render(): void {
    const document = vscode.window.activeTextEditor?.document;
    this.status.language = document?.languageId;
    this.status.languageEnabled = document ? isLanguageEnabled(this.settings.enable, document.languageId) : true;
    const shown = this.status.render();
    this.item.text = shown.text;
    this.item.tooltip = shown.tooltip;
    this.item.backgroundColor =
      shown.background === undefined ? undefined : new vscode.ThemeColor(`statusBarItem.${shown.background}Background`);
  }

  private configurationChanged(event: vscode.ConfigurationChangeEvent): void {
    if (!event.affectsConfiguration(SECTION)) {
      return;
    }
    const before = this.settings;
    this.settings = this.readSettings(true);
    this.render();
    if (needsRestart(before, this.settings)) {
      void this.restart();
    }
  }

  private async whyExcluded(uri?: vscode.Uri): Promise<void> {
    const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
    if (!target) {
      void vscode.window.showInformationMessage('slm-lsp: open a file first, then ask why it is excluded.');
      return;
    }
    const client = this.client;
    if (!client || !client.isRunning()) {
      void vscode.window.showWarningMessage('slm-lsp: the server is not running; restart it first.');
      return;
    }
    const label = vscode.workspace.asRelativePath(target, false);
    let shown: Shown;
    try {
      const result = await client.sendRequest(WHY_EXCLUDED_METHOD, { uri: client.code2ProtocolConverter.asUri(target) });
      shown = describeWhyExcluded(label, result);
    } catch (error) {
      shown = describeWhyExcludedError(error);
    }
    this.output.info(shown.message);
    this.show(shown);
  }

  /** Runs the server's "Explain selection" code action for the active selection. */
  private async explainSelection(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('slm-lsp: open a file and select code first.');
      return;
    }
    if (!this.client?.isRunning()) {
      void vscode.window.showWarningMessage('slm-lsp: the server is not running; restart it first.');
      return;
    }
    const actions = await vscode.commands.executeCommand<Array<vscode.CodeAction | vscode.Command>>(
      'vscode.executeCodeActionProvider', editor.document.uri, editor.selection, EXPLAIN_KIND,
    );
    const command = (actions ?? [])
      .map((action) => ('kind' in action || 'edit' in action ? (action as vscode.CodeAction).command : (action as vscode.Command)))
      .find((found): found is vscode.Command => found !== undefined && found.title.startsWith('Explain'));
    if (!command) {
      void vscode.window.showInformationMessage('slm-lsp: nothing to explain here; select some code (or put the cursor in a function).');
      return;
    }
    await vscode.commands.executeCommand(command.command, ...(command.arguments ?? []));
  }

  private show(shown: Shown): void {
    if (shown.level === 'error') {
      void vscode.window.showErrorMessage(shown.message);
    } else if (shown.level === 'warning') {
      void vscode.window.showWarningMessage(shown.message);
    } else {
      void vscode.window.showInformationMessage(shown.message);
    }
  }

  private async toggleLanguage(languageId?: string): Promise<void> {
    const language = typeof languageId === 'string' ? languageId : vscode.window.activeTextEditor?.document.languageId;
    if (!language) {
      void vscode.window.showInformationMessage('slm-lsp: open a file to switch completions for its language.');
      return;
    }
    const configuration = vscode.workspace.getConfiguration(SECTION);
    const userValue = (configuration.inspect<Record<string, boolean>>('enable')?.globalValue ?? {}) as Record<string, boolean>;
    const next = toggleLanguage({ ...this.settings.enable, ...userValue }, language);
    await configuration.update('enable', { ...userValue, [language]: next[language] }, vscode.ConfigurationTarget.Global);
    void vscode.window.showInformationMessage(
      `slm-lsp: inline completions ${next[language] ? 'enabled' : 'disabled'} for ${language}.`,
    );
  }

  private async showStatus(): Promise<void> {
    await this.refreshStatus();
    const shown = this.status.render();
    const language = vscode.window.activeTextEditor?.document.languageId;
    type Action = vscode.QuickPickItem & { run?: () => unknown };
    const items: Action[] = shown.tooltip
      .split('\n')
      .filter((line) => line !== 'Click for status and actions.')
      .map((line) => ({ label: line }));
    items.push({ label: 'Actions', kind: vscode.QuickPickItemKind.Separator });
    items.push({ label: '$(debug-restart) Restart server', run: () => this.restart() });
    if (language) {
      const enabled = isLanguageEnabled(this.settings.enable, language);
      items.push({
        label: `$(${enabled ? 'circle-slash' : 'check'}) ${enabled ? 'Disable' : 'Enable'} inline completions for ${language}`,
        run: () => this.toggleLanguage(language),
      });
      items.push({ label: '$(shield) Why is this file excluded?', run: () => this.whyExcluded() });
    }
    items.push({ label: '$(output) Show log', run: () => this.output.show(true) });
    items.push({
      label: '$(gear) Open settings',
      run: () => vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${this.context.extension.id}`),
    });
    const picked = await vscode.window.showQuickPick(items, { title: 'slm-lsp', placeHolder: shown.text.replace(/\$\([^)]*\)\s*/g, '') });
    await picked?.run?.();
  }

  dispose(): void {
    void this.stop();
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }
}
