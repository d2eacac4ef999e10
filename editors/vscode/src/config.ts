/**
 * The extension's settings as plain data: reading and validating them, turning them into
 * the server command and `initializationOptions`, and the per-language switch. No
 * `vscode` import, so node's test runner covers all of it.
 */

import * as os from 'node:os';
import * as path from 'node:path';

/** Section of every setting in package.json's `contributes.configuration`. */
export const SECTION = 'slmLsp';

/** Keys (below SECTION) that this module reads; package.json must declare each one. */
export const SETTING_KEYS = ['server.command', 'model', 'enable', 'initializationOptions', 'trace.server'] as const;

export const DEFAULT_COMMAND = ['slm-lsp', 'serve'];

/** Language ids for which completions are off unless the user turns them on. */
export const DEFAULT_ENABLE: Readonly<Record<string, boolean>> = {
  '*': true,
  plaintext: false,
  markdown: false,
  scminput: false,
};

/**
 * `initializationOptions` keys the server understands (its `Settings`, camelCase), with
 * the JSON type each takes. tests/editors/test_vscode.py checks this table against the
 * server's own list, so the two cannot drift apart.
 */
export const SERVER_OPTIONS: Readonly<Record<string, 'number' | 'string' | 'boolean'>> = {
  model: 'string',
  nCtx: 'number',
  nThreads: 'number',
  maxTokensSingle: 'number',
  maxTokensMulti: 'number',
  promptTokens: 'number',
  suffixRatio: 'number',
  readyWaitSeconds: 'number',
  nBatch: 'number',
  nGpuLayers: 'number',
  adaptiveBudgets: 'boolean',
  latencyTargetMs: 'number',
  maxPromptSeconds: 'number',
  maxGenerationSeconds: 'number',
  resultCacheSize: 'number',
  completionFallback: 'boolean',
  backend: 'string',
  remoteUrl: 'string',
  remoteModel: 'string',
  remoteTimeoutSeconds: 'number',
  remoteApiKeyEnv: 'string',
  remotePrompt: 'string',
  actionsModel: 'string',
  actionsIdleSeconds: 'number',
  suffixExtract: 'boolean',
  suffixCandidates: 'number',
  nextEditPredictor: 'string',
  minConfidence: 'number',
};

export interface Settings {
  command: string[];
  model: string;
  enable: Record<string, boolean>;
  initializationOptions: Record<string, unknown>;
}

export interface ReadResult {
  settings: Settings;
  /** One readable line per ignored value; the default is used instead. */
  problems: string[];
}

/** Reads a setting below SECTION; `undefined` when unset (VS Code returns the default). */
export type Getter = (key: string) => unknown;

export function readSettings(get: Getter): ReadResult {
  const problems: string[] = [];

  let command = DEFAULT_COMMAND;
  const rawCommand = get('server.command');
  if (rawCommand !== undefined && rawCommand !== null) {
    if (
      Array.isArray(rawCommand) &&
      rawCommand.length > 0 &&
      rawCommand.every((part) => typeof part === 'string') &&
      rawCommand[0].trim() !== ''
    ) {
      command = rawCommand as string[];
    } else {
      problems.push(
        `${SECTION}.server.command must be a non-empty list of strings such as ["slm-lsp", "serve"]; using ${JSON.stringify(DEFAULT_COMMAND)}`,
      );
    }
  }

  let model = '';
  const rawModel = get('model');
  if (typeof rawModel === 'string') {
    model = rawModel.trim();
  } else if (rawModel !== undefined && rawModel !== null) {
    problems.push(`${SECTION}.model must be a path (a string); using the server's default model`);
  }

  const enable: Record<string, boolean> = { ...DEFAULT_ENABLE };
  const rawEnable = get('enable');
  if (rawEnable !== undefined && rawEnable !== null) {
    if (typeof rawEnable === 'object' && !Array.isArray(rawEnable)) {
      for (const [language, value] of Object.entries(rawEnable as Record<string, unknown>)) {
        if (typeof value === 'boolean') {
          enable[language] = value;
        } else {
          problems.push(`${SECTION}.enable["${language}"] must be true or false; ignored`);
        }
      }
    } else {
      problems.push(`${SECTION}.enable must be an object like {"*": true, "markdown": false}; using the defaults`);
    }
  }

  const initializationOptions: Record<string, unknown> = {};
  const rawOptions = get('initializationOptions');
  if (rawOptions !== undefined && rawOptions !== null) {
    if (typeof rawOptions === 'object' && !Array.isArray(rawOptions)) {
      for (const [key, value] of Object.entries(rawOptions as Record<string, unknown>)) {
        const expected = Object.prototype.hasOwnProperty.call(SERVER_OPTIONS, key) ? SERVER_OPTIONS[key] : undefined;
        if (expected === undefined) {
          problems.push(
            `${SECTION}.initializationOptions.${key} is not a server option (known: ${Object.keys(SERVER_OPTIONS).join(', ')}); ignored`,
          );
        } else if (key === 'model') {
          problems.push(`${SECTION}.initializationOptions.model: use the ${SECTION}.model setting instead; ignored`);
        } else if (typeof value !== expected) {
          problems.push(`${SECTION}.initializationOptions.${key} must be a ${expected}; ignored`);
        } else {
          initializationOptions[key] = value;
        }
      }
    } else {
      problems.push(`${SECTION}.initializationOptions must be an object; ignored`);
    }
  }

  return { settings: { command, model, enable, initializationOptions }, problems };
}

export interface Expansion {
  /** First workspace folder, for `${workspaceFolder}`. */
  workspaceFolder?: string;
  home?: string;
}

/** Expands a leading `~` and `${workspaceFolder}` / `${userHome}` in a setting value. */
export function expandPath(value: string, expansion: Expansion = {}): string {
  const home = expansion.home ?? os.homedir();
  let result = value.replace(/\$\{userHome\}/g, home);
  if (expansion.workspaceFolder !== undefined) {
    result = result.replace(/\$\{workspaceFolder\}/g, expansion.workspaceFolder);
  }
  if (result === '~') {
    return home;
  }
  if (result.startsWith('~/') || result.startsWith('~\\')) {
    return path.join(home, result.slice(2));
  }
  return result;
}

export interface ServerExecutable {
  command: string;
  args: string[];
}

/** The process to spawn: the command setting with paths expanded. */
export function serverExecutable(settings: Settings, expansion: Expansion = {}): ServerExecutable {
  const [command, ...args] = settings.command.map((part) => expandPath(part, expansion));
  return { command, args };
}

/** `initializationOptions` for the server: the advanced options plus the model path. */
export function initializationOptions(settings: Settings, expansion: Expansion = {}): Record<string, unknown> {
  const options: Record<string, unknown> = { ...settings.initializationOptions };
  if (settings.model !== '') {
    options.model = expandPath(settings.model, expansion);
  }
  return options;
}

/** Whether inline completions are on for a language: its own entry, else `"*"`, else on. */
export function isLanguageEnabled(enable: Record<string, boolean>, languageId: string): boolean {
  if (Object.prototype.hasOwnProperty.call(enable, languageId)) {
    return enable[languageId];
  }
  if (Object.prototype.hasOwnProperty.call(enable, '*')) {
    return enable['*'];
  }
  return true;
}

/** The `enable` map after flipping one language (what "toggle for this language" writes). */
export function toggleLanguage(enable: Record<string, boolean>, languageId: string): Record<string, boolean> {
  return { ...enable, [languageId]: !isLanguageEnabled(enable, languageId) };
}

/** Do two settings need different server processes? (The `enable` map never does.) */
export function needsRestart(before: Settings, after: Settings): boolean {
  return (
    JSON.stringify(before.command) !== JSON.stringify(after.command) ||
    before.model !== after.model ||
    JSON.stringify(sortKeys(before.initializationOptions)) !== JSON.stringify(sortKeys(after.initializationOptions))
  );
}

function sortKeys(value: Record<string, unknown>): Array<[string, unknown]> {
  return Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Stderr phrases of a program that is not (this version of) `slm-lsp serve`. */
const WRONG_PROGRAM = /unrecognized arguments|invalid choice|No module named '?slm_lsp|error: argument/;

/** The last stderr line worth showing: the error itself, not a traceback's frames. */
function lastLine(stderr: string): string {
  const lines = stderr.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  return lines.length > 0 ? lines[lines.length - 1].replace(/^(ERROR|CRITICAL|WARNING|INFO|DEBUG) /, '') : '';
}

/**
 * A user-facing message, with the fix, for a server that could not be started: the
 * program is missing or not executable, it is another (older) slm-lsp that refuses its
 * arguments, or it exited at once (`stderr` holds its last lines).
 */
export function startFailureMessage(executable: ServerExecutable, error: unknown, stderr = ''): string {
  const shown = [executable.command, ...executable.args].join(' ');
  const message = error instanceof Error ? error.message : String(error);
  const fix = `set ${SECTION}.server.command (Machine settings in code-server and remote windows)`;
  // vscode-languageclient rejects with a string such as "Launching server using command
  // slm-lsp failed. Error: spawn slm-lsp ENOENT", so the code is looked for in the text too.
  const code = (error as { code?: unknown } | null)?.code ?? /\b(ENOENT|EACCES)\b/.exec(message)?.[1];
  if (code === 'ENOENT') {
    return (
      `could not start "${shown}": ${executable.command} was not found. ` +
      `Install the server (pip install . in the slm-lsp repository) or ${fix}, ` +
      `e.g. ["/path/to/python", "-m", "slm_lsp", "serve"].`
    );
  }
  if (code === 'EACCES') {
    return `could not start "${shown}": ${executable.command} is not executable. Check ${SECTION}.server.command.`;
  }
  const cause = lastLine(stderr);
  if (WRONG_PROGRAM.test(stderr)) {
    return (
      `"${shown}" is not a slm-lsp server this extension can use (it said: ${cause}). ` +
      `Upgrade it (pip install -U . in the slm-lsp repository) or ${fix} to the right one.`
    );
  }
  if (cause !== '') {
    return `"${shown}" exited at once: ${cause}. Run it in a terminal to see the whole message, then fix it or ${fix}.`;
  }
  return `could not start "${shown}": ${message}. See the "slm-lsp" output channel.`;
}
