// Errors shaped as node:net shapes them: `code`, a negative `errno` (the system's number for the code, as libuv
// reports it), `syscall`, and the peer's `address` and `port`, with a message such as
// "connect ECONNREFUSED 127.0.0.1:7000". Applications written against node:net check these fields, not classes.
import { constants } from 'node:os';

export interface NetErrorFields {
  code: string;
  errno?: number;
  syscall?: string;
  address?: string;
  port?: number;
}

export type NetError = Error & NetErrorFields;

/** The negative errno node:net reports for a code (undefined for codes the system does not have). */
export function errnoOf(code: string): number | undefined {
  const n = (constants.errno as Record<string, number | undefined>)[code];
  return n === undefined ? undefined : -n;
}

/** An error as node:net builds it; `detail` (why, in words) follows the node-style message in parentheses. */
export function netError(code: string, syscall: string, remote?: { address?: string; port?: number }, detail?: string): NetError {
  const where = remote?.address !== undefined ? ` ${remote.address}${remote.port !== undefined ? `:${remote.port}` : ''}` : '';
  const err = new Error(`${syscall} ${code}${where}${detail ? ` (${detail})` : ''}`) as NetError;
  err.code = code;
  const errno = errnoOf(code);
  if (errno !== undefined) err.errno = errno;
  err.syscall = syscall;
  if (remote?.address !== undefined) err.address = remote.address;
  if (remote?.port !== undefined) err.port = remote.port;
  return err;
}

/** The code of an error as node sets it, if it has one. */
export function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
