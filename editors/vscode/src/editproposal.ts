// "Edit selection with an instruction": the parts that need no VS Code API (unit-tested).
// The server's slm.editSelection returns a proposal and applies nothing; the extension
// asks for the instruction, shows the proposal as a diff and sends slm.applyEdit on "Apply".

export const EDIT_COMMAND = 'slm.editSelection';
export const APPLY_EDIT_COMMAND = 'slm.applyEdit';

export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }

/** What slm.editSelection answers: a proposal (with an id), or an error. */
export interface EditResult {
  id?: string;
  uri: string;
  version?: number | null;
  range?: Range;
  newText?: string;
  diff?: string;
  parses?: boolean | null;
  error?: string;
}

/** The code action's argument with the user's instruction added; undefined for a cancelled or empty input. */
export function withInstruction(args: unknown[], instruction: string | undefined): unknown[] | undefined {
  if (instruction === undefined || !instruction.trim() || args.length !== 1 || typeof args[0] !== 'object' || args[0] === null) {
    return undefined;
  }
  return [{ ...(args[0] as Record<string, unknown>), instruction: instruction.trim() }];
}

/** Whether a result is a proposal the server can apply. */
export function isProposal(result: unknown): result is EditResult & { id: string; range: Range; newText: string } {
  const value = result as EditResult | null;
  return !!value && typeof value.id === 'string' && typeof value.newText === 'string' && !!value.range;
}

/** The document's text with the proposal applied (UTF-16 positions, as VS Code's). */
export function proposedText(original: string, range: Range, newText: string): string {
  const offset = (position: Position): number => {
    let index = 0;
    for (let line = 0; line < position.line; line++) {
      const next = original.indexOf('\n', index);
      if (next < 0) {
        return original.length;
      }
      index = next + 1;
    }
    return Math.min(index + position.character, original.length);
  };
  return original.slice(0, offset(range.start)) + newText + original.slice(offset(range.end));
}

/** The question asked under the diff: a rewrite that does not parse says so. */
export function applyQuestion(parses: boolean | null | undefined): string {
  return parses === false
    ? 'slm-lsp: the rewrite does not parse. Apply it anyway?'
    : 'slm-lsp: apply the proposed edit?';
}
