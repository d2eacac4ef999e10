/**
 * Requests the extension adds on top of the standard LSP client, and how their answers
 * and errors are shown. Plain data only (no `vscode` import), tested with node's runner.
 */

export const STATUS_METHOD = 'slm/status';
export const WHY_EXCLUDED_METHOD = 'slm/whyExcluded';

/** JSON-RPC error codes the extension tells apart. */
export const ErrorCodes = {
  MethodNotFound: -32601,
  InvalidParams: -32602,
  RequestCancelled: -32800,
  ServerCancelled: -32802,
  ContentModified: -32801,
} as const;

export interface WhyExcludedResult {
  excluded: boolean;
  rule: string | null;
  explanation: string;
}

export function isWhyExcludedResult(value: unknown): value is WhyExcludedResult {
  if (!value || typeof value !== 'object') {
    return false;
  }
  const v = value as Record<string, unknown>;
  return (
    typeof v.excluded === 'boolean' &&
    (v.rule === null || v.rule === undefined || typeof v.rule === 'string') &&
    typeof v.explanation === 'string'
  );
}

export interface Shown {
  level: 'info' | 'warning' | 'error';
  message: string;
}

/** The message for a `slm/whyExcluded` answer about `file` (a path or URI for display). */
export function describeWhyExcluded(file: string, result: unknown): Shown {
  if (!isWhyExcludedResult(result)) {
    return { level: 'error', message: `slm-lsp: unexpected answer to ${WHY_EXCLUDED_METHOD}: ${JSON.stringify(result)}` };
  }
  const explanation = result.explanation.trim();
  if (result.excluded) {
    const rule = result.rule ? ` by rule "${result.rule}"` : '';
    return {
      level: 'warning',
      message: `slm-lsp: ${file} is excluded${rule}; no completions are made in it.` + (explanation ? ` ${explanation}` : ''),
    };
  }
  return {
    level: 'info',
    message: `slm-lsp: ${file} is not excluded; completions are on.` + (explanation ? ` ${explanation}` : ''),
  };
}

/** The message for a failed `slm/whyExcluded` request. */
export function describeWhyExcludedError(error: unknown): Shown {
  if (errorCode(error) === ErrorCodes.MethodNotFound) {
    return {
      level: 'warning',
      message:
        `slm-lsp: the running server does not answer ${WHY_EXCLUDED_METHOD} ` +
        '(it has no privacy gate yet); upgrade slm-lsp to get per-file explanations.',
    };
  }
  return { level: 'error', message: `slm-lsp: ${WHY_EXCLUDED_METHOD} failed: ${errorMessage(error)}` };
}

export function errorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  const message = (error as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** Is this the error a request gets when it was cancelled (by us or by the server)? */
export function isCancellation(error: unknown): boolean {
  const code = errorCode(error);
  return code === ErrorCodes.RequestCancelled || code === ErrorCodes.ServerCancelled || code === ErrorCodes.ContentModified;
}

/**
 * Text worth logging from a `workspace/executeCommand` result (code actions such as
 * "Explain selection"): a string, or an object with `markdown`, `text`, `message` or
 * `explanation`. `undefined` when there is none. (The server itself shows the outcome
 * with window/showDocument, showMessage or applyEdit.)
 */
export function commandResultText(result: unknown): string | undefined {
  if (typeof result === 'string') {
    return result.trim() === '' ? undefined : result;
  }
  if (result && typeof result === 'object') {
    for (const key of ['markdown', 'text', 'message', 'explanation']) {
      const value = (result as Record<string, unknown>)[key];
      if (typeof value === 'string' && value.trim() !== '') {
        return value;
      }
    }
  }
  return undefined;
}
