/**
 * Next-edit suggestions in the editor: after a pause in editing the active document, ask
 * the server (src/nextedit.ts), then show the proposal where it is — the replaced text
 * struck through, the new text after it, a hover "Tab to apply". While one is shown the
 * context key slmLsp.nextEditPending is set, so the package.json keybindings give Tab (jump
 * there, then apply it through a WorkspaceEdit) and Escape (dismiss) to it; otherwise Tab is
 * untouched. Any edit, another editor or a newer document version drops the proposal.
 */

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';

import { Debouncer } from './prefetch';
import {
  INLINE_EDIT_METHOD,
  NEXT_EDIT_DELAY_MS,
  NextEdit,
  PENDING_CONTEXT,
  inlineEditParams,
  pickEdit,
  supportsNextEdit,
} from './nextedit';

export const NEXT_EDIT_COMMANDS = {
  jumpOrApply: 'slmLsp.nextEdit.jumpOrApply',
  dismiss: 'slmLsp.nextEdit.dismiss',
} as const;

interface Shown {
  editor: vscode.TextEditor;
  version: number;
  range: vscode.Range;
  edit: NextEdit;
}

export class NextEditView implements vscode.Disposable {
  private readonly struck = vscode.window.createTextEditorDecorationType({
    textDecoration: 'line-through',
    backgroundColor: new vscode.ThemeColor('diffEditor.removedTextBackground'),
  });
  private readonly added = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorGhostText.foreground'), backgroundColor: new vscode.ThemeColor('diffEditor.insertedTextBackground') },
  });
  private readonly disposables: vscode.Disposable[] = [];
  private readonly ask = new Debouncer<vscode.TextEditor>((editor) => void this.request(editor), NEXT_EDIT_DELAY_MS);
  private shown: Shown | undefined;
  private asked = 0; // bumps on every request and edit: an answer to an older one is dropped

  constructor(
    private readonly client: () => LanguageClient | undefined,
    private readonly synced: (document: vscode.TextDocument) => boolean,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      this.struck,
      this.added,
      vscode.commands.registerCommand(NEXT_EDIT_COMMANDS.jumpOrApply, () => this.jumpOrApply()),
      vscode.commands.registerCommand(NEXT_EDIT_COMMANDS.dismiss, () => this.clear()),
      vscode.workspace.onDidChangeTextDocument((event) => this.changed(event)),
      vscode.window.onDidChangeActiveTextEditor(() => {
        this.ask.clear();
        this.clear();
      }),
      { dispose: () => this.ask.clear() },
    );
  }

  private changed(event: vscode.TextDocumentChangeEvent): void {
    const editor = vscode.window.activeTextEditor;
    if (event.contentChanges.length === 0 || editor?.document !== event.document) {
      return;
    }
    this.asked++;
    this.clear();
    if (this.synced(event.document)) {
      this.ask.push(editor);
    }
  }

  private async request(editor: vscode.TextEditor): Promise<void> {
    const client = this.client();
    if (!client?.isRunning() || !supportsNextEdit(client.initializeResult?.capabilities)) {
      return;
    }
    if (vscode.window.activeTextEditor !== editor) {
      return;
    }
    const ticket = ++this.asked;
    const document = editor.document;
    const version = document.version;
    const uri = client.code2ProtocolConverter.asUri(document.uri);
    const cursor = editor.selection.active;
    let result: unknown;
    try {
      result = await client.sendRequest(INLINE_EDIT_METHOD, inlineEditParams(uri, version, cursor.line, cursor.character));
    } catch (error) {
      this.log.warn(`${INLINE_EDIT_METHOD} failed: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (ticket !== this.asked || document.version !== version || vscode.window.activeTextEditor !== editor) {
      return; // typed on, or moved to another editor, while the server answered
    }
    const edit = pickEdit(result, uri, version);
    if (edit) {
      this.show({ editor, version, range: client.protocol2CodeConverter.asRange(edit.range), edit });
    }
  }

  private show(shown: Shown): void {
    this.clear();
    this.shown = shown;
    const firstLine = shown.edit.text.split('\n')[0];
    const more = shown.edit.text.includes('\n') ? ' …' : '';
    const hover = new vscode.MarkdownString('**slm-lsp** next edit: replace with `' + shown.edit.text.replace(/`/g, '\\`') + '` — **Tab** to jump here, **Tab** again to apply, **Escape** to dismiss');
    shown.editor.setDecorations(this.struck, [{ range: shown.range, hoverMessage: hover }]);
    shown.editor.setDecorations(this.added, [{
      range: new vscode.Range(shown.range.end, shown.range.end),
      renderOptions: { after: { contentText: firstLine + more + '  ⇥ Tab' } },
    }]);
    void vscode.commands.executeCommand('setContext', PENDING_CONTEXT, true);
  }

  /** Drop the proposal (an edit, Escape, another editor). */
  clear(): void {
    const shown = this.shown;
    this.shown = undefined;
    if (shown) {
      shown.editor.setDecorations(this.struck, []);
      shown.editor.setDecorations(this.added, []);
      void vscode.commands.executeCommand('setContext', PENDING_CONTEXT, false);
    }
  }

  /** Tab: move the cursor to the proposal; with the cursor there, apply it. */
  private async jumpOrApply(): Promise<void> {
    const shown = this.shown;
    if (!shown || shown.editor !== vscode.window.activeTextEditor || shown.editor.document.version !== shown.version) {
      this.clear();
      return;
    }
    const editor = shown.editor;
    if (!editor.selection.active.isEqual(shown.range.start)) {
      editor.selection = new vscode.Selection(shown.range.start, shown.range.start);
      editor.revealRange(shown.range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      return;
    }
    this.clear();
    const edit = new vscode.WorkspaceEdit();
    edit.replace(editor.document.uri, shown.range, shown.edit.text);
    if (!(await vscode.workspace.applyEdit(edit))) {
      this.log.warn('the next edit could not be applied (the document changed)');
      return;
    }
    const lines = shown.edit.text.split('\n');
    const end = lines.length === 1
      ? shown.range.start.translate(0, lines[0].length)
      : new vscode.Position(shown.range.start.line + lines.length - 1, lines[lines.length - 1].length);
    editor.selection = new vscode.Selection(end, end);
    if (shown.edit.command) {
      void vscode.commands.executeCommand(shown.edit.command.command, ...(shown.edit.command.arguments ?? []));
    }
  }

  dispose(): void {
    this.clear();
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }
}
