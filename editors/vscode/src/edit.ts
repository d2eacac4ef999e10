// The VS Code side of "Edit selection with an instruction": input box, diff view, Apply/Discard.
import * as vscode from 'vscode';

import { APPLY_EDIT_COMMAND, EDIT_COMMAND, applyQuestion, isProposal, proposedText, withInstruction } from './editproposal';

const SCHEME = 'slm-edit';
type Next = (command: string, args: unknown[]) => Promise<unknown>;

/** Shows proposals as read-only virtual documents (scheme slm-edit) for vscode.diff. */
export class EditFlow implements vscode.TextDocumentContentProvider {
  private readonly documents = new Map<string, string>();
  private counter = 0;

  register(): vscode.Disposable {
    return vscode.workspace.registerTextDocumentContentProvider(SCHEME, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.documents.get(uri.toString()) ?? '';
  }

  handles(command: string): boolean {
    return command === EDIT_COMMAND;
  }

  /** Ask for the instruction, get the proposal, show it as a diff, apply it on "Apply". */
  async run(args: unknown[], next: Next): Promise<unknown> {
    const instruction = await vscode.window.showInputBox({
      title: 'slm-lsp: edit selection',
      prompt: 'What should change? (e.g. "add type hints", "handle the empty case")',
      ignoreFocusOut: true,
    });
    const withText = withInstruction(args, instruction);
    if (!withText) {
      return undefined;
    }
    const result = await next(EDIT_COMMAND, withText);
    if (!isProposal(result)) {
      return result; // the server has shown why (excluded, secret, changed file, model error)
    }
    const target = vscode.Uri.parse(result.uri);
    const document = await vscode.workspace.openTextDocument(target);
    const proposed = vscode.Uri.from({ scheme: SCHEME, path: `${target.path}`, query: `${++this.counter}` });
    this.documents.set(proposed.toString(), proposedText(document.getText(), result.range, result.newText));
    try {
      await vscode.commands.executeCommand('vscode.diff', target, proposed, `slm-lsp: proposed edit ↔ ${target.path.split('/').pop()}`);
      const choice = await vscode.window.showInformationMessage(applyQuestion(result.parses), 'Apply', 'Discard');
      if (choice === 'Apply') {
        return await next(APPLY_EDIT_COMMAND, [{ proposal: result }]);
      }
      return { applied: false };
    } finally {
      this.documents.delete(proposed.toString());
      await closeDiff(proposed);
    }
  }
}

/** Closes the diff view of a proposal once it is answered: left open, it would show a stale proposal. */
async function closeDiff(proposed: vscode.Uri): Promise<void> {
  const tabs = vscode.window.tabGroups.all.flatMap((group) => group.tabs).filter(
    (tab) => tab.input instanceof vscode.TabInputTextDiff && tab.input.modified.toString() === proposed.toString(),
  );
  if (tabs.length > 0) {
    await vscode.window.tabGroups.close(tabs);
  }
}
