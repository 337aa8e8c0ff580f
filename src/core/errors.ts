// The core's two kinds of error: a connection's failure (carried by its 'closed' event, never thrown) and an
// application call the core refuses in the connection's state (thrown, a CallError with a code). Arguments out of
// range (a port, a datagram larger than the connection carries) are RangeErrors, as in Node.

/** Why a connection failed. */
export type ErrorCode = 'ECONNRESET' | 'ETIMEDOUT' | 'ECONNREFUSED';

export interface ConnectionError {
  code: ErrorCode;
  message: string;
}

export function connectionError(code: ErrorCode, message: string): ConnectionError {
  return { code, message };
}

/**
 * Why an application call was refused: EPIPE (write after shutdown or close), the connection's own error code
 * (write after it failed), EADDRINUSE (no ephemeral port left towards a peer).
 */
export type CallErrorCode = 'EPIPE' | ErrorCode | 'EADDRINUSE';

export class CallError extends Error {
  readonly code: CallErrorCode;

  constructor(code: CallErrorCode, message: string) {
    super(message);
    this.name = 'CallError';
    this.code = code;
  }
}
