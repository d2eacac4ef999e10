/**
 * What the status-bar item shows, as plain data: no `vscode` import, so node's test
 * runner can check every state. `extension.ts` only copies `render()` onto the item.
 */

/** The server's own model states, as `slm/status` reports them. */
export type ServerState = 'not loaded' | 'loading' | 'ready' | 'failed';

/** `slm/status` result (see the server's README); unknown fields are ignored. */
export interface ServerStatus {
  state: ServerState;
  error?: string | null;
  model?: string | null;
  family?: string | null;
  modelOrigin?: string | null;
  last?: LastGeneration | null;
  gating?: Gating | null;
}

/** Confidence gating as the server reports it in `gating`. */
export interface Gating {
  minConfidence?: number;
  /** Probability of the least likely kept token of the latest completion (null: unknown). */
  lastConfidence?: number | null;
  lastGated?: boolean;
  /** Suggestions withheld so far because their confidence was below minConfidence. */
  gated?: number;
}

/** Timings of the latest generation, as the server reports them in `last`. */
export interface LastGeneration {
  stopReason?: string;
  prompt_ms?: number;
  generation_ms?: number;
  prompt_tokens?: number;
  reused_tokens?: number;
  generated_tokens?: number;
}

/** `$/progress` values (LSP WorkDoneProgressBegin / Report / End). */
export type ProgressValue =
  | { kind: 'begin'; title: string; message?: string; percentage?: number }
  | { kind: 'report'; message?: string; percentage?: number }
  | { kind: 'end'; message?: string };

export type Phase =
  | 'starting' // process spawned, LSP handshake not done
  | 'loading' // server is loading the model
  | 'ready'
  | 'failed' // the model could not be loaded (server still runs)
  | 'stopped' // server process ended or was stopped
  | 'startFailed'; // the server command could not be started at all

export interface Rendered {
  text: string;
  tooltip: string;
  /** Which theme colour the item's background should use, if any. */
  background: 'error' | 'warning' | undefined;
}

const NAME = 'slm';

/** Status of one server connection plus the editor's own view of the active document. */
export class StatusModel {
  phase: Phase = 'starting';
  percentage: number | undefined;
  progressMessage: string | undefined;
  error: string | undefined;
  model: string | undefined;
  family: string | undefined;
  modelOrigin: string | undefined;
  last: LastGeneration | undefined;
  gating: Gating | undefined;
  /** Round trip of the latest inline-completion request as the editor measured it. */
  roundTripMs: number | undefined;
  /** Language of the active editor, and whether completions are enabled for it. */
  language: string | undefined;
  languageEnabled = true;
  private readonly loadTokens = new Set<string>();

  /** A new server process is being started (also after a restart). */
  starting(): void {
    this.phase = 'starting';
    this.percentage = undefined;
    this.progressMessage = undefined;
    this.error = undefined;
    this.last = undefined;
    this.gating = undefined;
    this.roundTripMs = undefined;
    this.loadTokens.clear();
  }

  /**
   * A `$/progress` notification. Only the model-loading progress counts: its token has
   * the server's load prefix, or its `begin` title mentions loading. Returns whether the
   * value was used.
   */
  progress(token: unknown, value: unknown): boolean {
    if (!isProgressValue(value)) {
      return false;
    }
    const key = String(token);
    if (value.kind === 'begin' && (isLoadProgressToken(token) || /\bload/i.test(value.title))) {
      this.loadTokens.add(key);
    }
    if (!this.loadTokens.has(key)) {
      return false;
    }
    if (value.kind === 'end') {
      this.loadTokens.delete(key);
      // The end message says "model ready" or "model failed to load"; `slm/status`
      // (queried right after) is the authority on which.
      this.percentage = undefined;
      this.progressMessage = value.message;
      return true;
    }
    if (this.phase === 'starting' || this.phase === 'loading') {
      this.phase = 'loading';
    }
    if (typeof value.percentage === 'number') {
      this.percentage = Math.max(0, Math.min(100, Math.round(value.percentage)));
    }
    if (value.message) {
      this.progressMessage = value.message;
    }
    return true;
  }

  /** A `slm/status` result. Anything that is not a status object is ignored. */
  status(result: unknown): void {
    if (!isServerStatus(result)) {
      return;
    }
    this.model = result.model ?? undefined;
    this.family = result.family ?? undefined;
    this.modelOrigin = result.modelOrigin ?? undefined;
    if (result.last && typeof result.last === 'object' && Object.keys(result.last).length > 0) {
      this.last = result.last;
    }
    if (result.gating && typeof result.gating === 'object') {
      this.gating = result.gating;
    }
    switch (result.state) {
      case 'ready':
        this.phase = 'ready';
        this.error = undefined;
        this.percentage = undefined;
        break;
      case 'failed':
        this.phase = 'failed';
        this.error = result.error ?? 'the model could not be loaded';
        this.percentage = undefined;
        break;
      case 'loading':
      case 'not loaded':
        this.phase = 'loading';
        break;
    }
  }

  stopped(reason?: string): void {
    this.phase = 'stopped';
    this.error = reason;
    this.percentage = undefined;
  }

  startFailed(message: string): void {
    this.phase = 'startFailed';
    this.error = message;
    this.percentage = undefined;
  }

  /** Is the server settled (ready, failed or gone), so that polling can stop? */
  get settled(): boolean {
    return this.phase !== 'starting' && this.phase !== 'loading';
  }

  /** Server-side latency of the latest generation: prompt evaluation plus generation. */
  get latencyMs(): number | undefined {
    const last = this.last;
    if (!last || typeof last.prompt_ms !== 'number' || typeof last.generation_ms !== 'number') {
      return undefined;
    }
    return last.prompt_ms + last.generation_ms;
  }

  render(): Rendered {
    const lines: string[] = [];
    let text: string;
    let background: Rendered['background'];
    switch (this.phase) {
      case 'starting':
        text = `$(loading~spin) ${NAME}`;
        lines.push('slm-lsp: starting the server');
        break;
      case 'loading':
        text = `$(loading~spin) ${NAME}` + (this.percentage !== undefined ? ` ${this.percentage}%` : '');
        lines.push('slm-lsp: loading the model' + (this.progressMessage ? ` (${this.progressMessage})` : ''));
        break;
      case 'ready': {
        const latency = this.latencyMs;
        text = `$(sparkle) ${NAME}` + (latency !== undefined ? ` ${formatMs(latency)}` : '');
        lines.push('slm-lsp: ready');
        break;
      }
      case 'failed':
        text = `$(error) ${NAME}`;
        background = 'error';
        lines.push(`slm-lsp: the model failed to load: ${this.error ?? 'unknown error'}`);
        break;
      case 'stopped':
        text = `$(debug-disconnect) ${NAME}`;
        background = 'warning';
        lines.push('slm-lsp: the server is not running' + (this.error ? ` (${this.error})` : ''));
        break;
      case 'startFailed':
        text = `$(error) ${NAME}`;
        background = 'error';
        lines.push(`slm-lsp: ${this.error ?? 'the server could not be started'}`);
        break;
    }
    if (this.model) {
      const details = [this.family && this.family !== 'none' ? `${this.family} FIM` : undefined, this.modelOrigin]
        .filter(Boolean)
        .join(', ');
      lines.push(`Model: ${this.model}` + (details ? ` (${details})` : ''));
    }
    const latency = this.latencyMs;
    if (latency !== undefined && this.last) {
      const parts = [`prompt ${formatMs(this.last.prompt_ms ?? 0)}`, `generation ${formatMs(this.last.generation_ms ?? 0)}`];
      if (typeof this.last.generated_tokens === 'number') {
        parts.push(`${this.last.generated_tokens} tokens`);
      }
      if (this.last.stopReason) {
        parts.push(`stopped: ${this.last.stopReason}`);
      }
      lines.push(`Last completion: ${formatMs(latency)} (${parts.join(', ')})`);
    }
    const confidence = gatingLine(this.gating);
    if (confidence) {
      lines.push(confidence);
    }
    if (this.roundTripMs !== undefined) {
      lines.push(`Last request round trip in the editor: ${formatMs(this.roundTripMs)}`);
    }
    if (this.language !== undefined && !this.languageEnabled) {
      // Completions are off here: say so without hiding a server problem.
      if (this.phase === 'ready') {
        text = `$(circle-slash) ${NAME}`;
      }
      lines.push(`Inline completions are disabled for ${this.language} (setting slmLsp.enable).`);
    }
    lines.push('Click for status and actions.');
    return { text, tooltip: lines.join('\n'), background };
  }
}

/** "Confidence: last 0.42 (shown; hidden below 0.30), 3 hidden so far", or undefined without a threshold. */
export function gatingLine(gating: Gating | undefined): string | undefined {
  if (!gating || typeof gating.minConfidence !== 'number') {
    return undefined;
  }
  const threshold = gating.minConfidence.toFixed(2);
  const hidden = typeof gating.gated === 'number' ? `, ${gating.gated} hidden so far` : '';
  const last = gating.lastConfidence;
  if (typeof last !== 'number') {
    return `Confidence: suggestions below ${threshold} are hidden${hidden}`;
  }
  const verdict = gating.lastGated ? 'hidden' : 'shown';
  return `Confidence: last ${last.toFixed(2)} (${verdict}; hidden below ${threshold})${hidden}`;
}

export function formatMs(ms: number): string {
  if (ms >= 10_000) {
    return `${(ms / 1000).toFixed(0)} s`;
  }
  if (ms >= 1000) {
    return `${(ms / 1000).toFixed(1)} s`;
  }
  return `${Math.round(ms)} ms`;
}

export function isServerStatus(value: unknown): value is ServerStatus {
  if (!value || typeof value !== 'object') {
    return false;
  }
  const state = (value as { state?: unknown }).state;
  return state === 'not loaded' || state === 'loading' || state === 'ready' || state === 'failed';
}

/** Is this `$/progress` value one of the LSP work-done kinds? */
export function isProgressValue(value: unknown): value is ProgressValue {
  if (!value || typeof value !== 'object') {
    return false;
  }
  const kind = (value as { kind?: unknown }).kind;
  return kind === 'begin' || kind === 'report' || kind === 'end';
}

/** The server's model-loading progress is reported under tokens with this prefix. */
export const LOAD_PROGRESS_PREFIX = 'slm-lsp-load-';

export function isLoadProgressToken(token: unknown): boolean {
  return typeof token === 'string' && token.startsWith(LOAD_PROGRESS_PREFIX);
}
