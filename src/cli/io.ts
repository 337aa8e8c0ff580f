// What commands print to and how they report their exit code, so tests can run them in-process.

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  setExitCode(code: number): void;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  setExitCode: (code) => {
    process.exitCode = code;
  },
};
