/**
 * `slm/prefetch`: tells the server where the cursor rests, so it can evaluate the prompt a
 * completion there would need before the user asks (issue 16). Sent debounced, so a
 * moving cursor costs one notification once it stops, not one per selection event. No
 * `vscode` import, so node's test runner covers it.
 */

export const PREFETCH_METHOD = 'slm/prefetch';

/** The command the server puts on every inline completion item; accepting runs it. */
export const ACCEPTED_COMMAND = 'slm.acceptedCompletion';

export const PREFETCH_DELAY_MS = 300;

export interface PrefetchParams {
  textDocument: { uri: string };
  position: { line: number; character: number };
}

export function prefetchParams(uri: string, line: number, character: number): PrefetchParams {
  return { textDocument: { uri }, position: { line, character } };
}

type Timer = ReturnType<typeof setTimeout>;

/** Calls `send` with the latest value once `delayMs` passed without a newer one. */
export class Debouncer<T> {
  private timer: Timer | undefined;

  constructor(
    private readonly send: (value: T) => void,
    private readonly delayMs: number = PREFETCH_DELAY_MS,
    private readonly schedule: (callback: () => void, ms: number) => Timer = setTimeout,
    private readonly cancel: (timer: Timer) => void = clearTimeout,
  ) {}

  push(value: T): void {
    this.clear();
    this.timer = this.schedule(() => {
      this.timer = undefined;
      this.send(value);
    }, this.delayMs);
  }

  /** Drop the pending value (the document closed, the server stopped). */
  clear(): void {
    if (this.timer !== undefined) {
      this.cancel(this.timer);
      this.timer = undefined;
    }
  }
}
