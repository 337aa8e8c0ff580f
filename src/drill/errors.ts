// The one error type of the drill interpreter: a message tied to a script line, so every failure reads
// "line N: what went wrong".

export class DrillError extends Error {
  /** 1-based script line the failure belongs to; 0 when it belongs to no line (e.g. the file itself). */
  readonly line: number;
  /** The message without the line prefix. */
  readonly detail: string;

  constructor(line: number, detail: string) {
    super(line > 0 ? `line ${line}: ${detail}` : detail);
    this.name = 'DrillError';
    this.line = line;
    this.detail = detail;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
