// What commands print to and how they report their exit code, so tests can run them in-process.

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  setExitCode(code: number): void;
  /** Where progress bars may be drawn: the terminal stdout is, or absent when stdout is not a TTY. */
  progress?: NodeJS.WriteStream;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  setExitCode: (code) => {
    process.exitCode = code;
  },
  progress: process.stdout.isTTY ? process.stdout : undefined,
};
