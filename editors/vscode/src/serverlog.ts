/**
 * The server's stderr, line by line, mapped to the output channel's log levels. The
 * server logs `LEVEL logger: message` (Python logging); vscode-languageclient's default
 * shows every stderr line as [error], which hides real errors among routine info.
 * Lines without a level (a traceback's continuation, llama.cpp's own prints) keep the
 * level of the line before them. No `vscode` import, so node's test runner covers it.
 */

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Readonly<Record<string, LogLevel>> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  WARN: 'warn',
  ERROR: 'error',
  CRITICAL: 'error',
};

const LINE = /^(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL) (.*)$/;

export interface LogLine {
  level: LogLevel;
  text: string;
}

/** Stateful reader of one server process's stderr. */
export class ServerLogReader {
  private last: LogLevel = 'info';

  /** The level and text to log for one stderr line (the level word is dropped). */
  read(line: string): LogLine {
    const match = LINE.exec(line);
    if (match) {
      this.last = LEVELS[match[1]];
      return { level: this.last, text: match[2] };
    }
    return { level: this.last, text: line };
  }
}

/** The last lines of stderr, kept to explain a server that exits at once. */
export class StderrTail {
  private readonly lines: string[] = [];

  constructor(private readonly size = 20) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.size) {
      this.lines.shift();
    }
  }

  text(): string {
    return this.lines.join('\n');
  }

  clear(): void {
    this.lines.length = 0;
  }
}
