/**
 * Next-edit suggestions, the protocol half: `textDocument/copilotInlineEdit` (the server
 * advertises it under `experimental.copilotInlineEdit`), its params, and the choice of the
 * proposal to show from its answer. No `vscode` import, so node's test runner covers it;
 * src/nexteditview.ts draws and applies the proposal.
 */

export const INLINE_EDIT_METHOD = 'textDocument/copilotInlineEdit';

/** The pause in editing after which the server is asked (not on every key). */
export const NEXT_EDIT_DELAY_MS = 600;

/** The context key the Tab / Escape keybindings wait for, so Tab keeps its meaning otherwise. */
export const PENDING_CONTEXT = 'slmLsp.nextEditPending';

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface InlineEditParams {
  textDocument: { uri: string; version: number };
  position: Position;
}

export interface Command {
  title: string;
  command: string;
  arguments?: unknown[];
}

export interface NextEdit {
  text: string;
  range: Range;
  command?: Command;
}

export function inlineEditParams(uri: string, version: number, line: number, character: number): InlineEditParams {
  return { textDocument: { uri, version }, position: { line, character } };
}

/** Does the server answer the request? (An old server has no `experimental` entry.) */
export function supportsNextEdit(capabilities: unknown): boolean {
  const experimental = (capabilities as { experimental?: unknown } | undefined)?.experimental;
  return typeof experimental === 'object' && experimental !== null && 'copilotInlineEdit' in experimental;
}

function isPosition(value: unknown): value is Position {
  const p = value as Position | undefined;
  return typeof p?.line === 'number' && typeof p?.character === 'number';
}

/**
 * The first edit of the answer meant for this document at this version (the entries are
 * alternatives, nearest first), or undefined: an answer for older text is never shown.
 */
export function pickEdit(result: unknown, uri: string, version: number): NextEdit | undefined {
  const edits = (result as { edits?: unknown } | null | undefined)?.edits;
  if (!Array.isArray(edits)) {
    return undefined;
  }
  for (const edit of edits) {
    const doc = edit?.textDocument;
    const range = edit?.range;
    if (doc?.uri === uri && doc?.version === version && typeof edit.text === 'string'
      && isPosition(range?.start) && isPosition(range?.end)) {
      const command = typeof edit.command?.command === 'string' ? (edit.command as Command) : undefined;
      return { text: edit.text, range: { start: range.start, end: range.end }, command };
    }
  }
  return undefined;
}
