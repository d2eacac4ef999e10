/**
 * VS Code glue: starts `slm-lsp serve` through vscode-languageclient (whose built-in
 * InlineCompletionItemFeature turns the server's `textDocument/inlineCompletion` into
 * VS Code ghost text), keeps the status-bar item current and registers the commands.
 * All decisions live in config.ts, status.ts and messages.ts, which have no `vscode`
 * import and are unit-tested; this file only wires them to the editor.
 */

import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  TransportKind,
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
import { StatusModel } from './status';

export const COMMANDS = {
  restartServer: 'slmLsp.restartServer',
  whyExcluded: 'slmLsp.whyExcluded',
  showStatus: 'slmLsp.showStatus',
  toggleLanguage: 'slmLsp.toggleLanguage',
  showOutput: 'slmLsp.showOutput',
} as const;

const CLIENT_ID = 'slmLsp'; // vscode-languageclient reads `${CLIENT_ID}.trace.server`
const POLL_MS = 500;

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

  constructor(private readonly context: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('slm-lsp', { log: true });
    this.item = vscode.window.createStatusBarItem('slmLsp.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'slm-lsp';
    this.item.command = COMMANDS.showStatus;
    this.settings = this.readSettings(true);
    this.disposables.push(
      this.output,
      this.item,
      vscode.commands.registerCommand(COMMANDS.restartServer, () => this.restart()),
      vscode.commands.registerCommand(COMMANDS.whyExcluded, (uri?: vscode.Uri) => this.whyExcluded(uri)),
      vscode.commands.registerCommand(COMMANDS.showStatus, () => this.showStatus()),
      vscode.commands.registerCommand(COMMANDS.toggleLanguage, (languageId?: string) => this.toggleLanguage(languageId)),
      vscode.commands.registerCommand(COMMANDS.showOutput, () => this.output.show(true)),
      vscode.workspace.onDidChangeConfiguration((event) => this.configurationChanged(event)),
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
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
    const serverOptions: ServerOptions = {
      command: executable.command,
      args: executable.args,
      transport: TransportKind.stdio,
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: initializationOptions(this.settings, expansion),
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
        this.startPolling();
      }
    });
    try {
      await client.start();
    } catch (error) {
      if (generation !== this.generation) {
        return;
      }
      const message = startFailureMessage(executable, error);
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
        const wasFailed = this.status.phase === 'failed';
        this.status.status(result);
        if (this.status.phase === 'failed' && !wasFailed) {
          this.output.error(`model: ${this.status.error}`);
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
