// What `stevens tun` runs on top of its connections: the classic echo (RFC 862), discard (RFC 863) and chargen
// (RFC 864) services, and a client that sends seeded pseudo-random bytes and checks the echo by SHA-256.
import { createHash } from 'node:crypto';
import { Prng } from '../util/prng.js';
import type { ConnectionRouter, Pipe } from './pipe.js';

export type ServiceName = 'echo' | 'discard' | 'chargen';
export const SERVICE_PORTS: Record<ServiceName, number> = { echo: 7, discard: 9, chargen: 19 };

/** Above this many queued bytes the echo stops reading until the queue drains (backpressure). */
const ECHO_HIGH_WATER_BYTES = 1 << 20;
const CHARGEN_LOW_WATER_BYTES = 256 * 1024;
const CHUNK_BYTES = 64 * 1024;

/** Run `service` for every connection the router accepts. `onConnection` sees each pipe (to log or wrap handlers). */
export function serveService(router: ConnectionRouter, service: ServiceName, onConnection?: (pipe: Pipe) => void): void {
  router.onAccept = (pipe) => {
    if (service === 'echo') echo(pipe);
    else if (service === 'discard') discard(pipe);
    else chargen(pipe);
    // After the service's handlers are in place, so onConnection can wrap them.
    onConnection?.(pipe);
  };
}

function echo(pipe: Pipe): void {
  const h = pipe.handlers;
  h.data = (chunk) => {
    pipe.write(chunk);
    if (pipe.queuedBytes > ECHO_HIGH_WATER_BYTES) pipe.pause();
  };
  h.drain = () => pipe.resume();
  h.end = () => pipe.end();
}

function discard(pipe: Pipe): void {
  const h = pipe.handlers;
  h.data = () => {};
  h.end = () => pipe.end();
}

/** RFC 864: 72-character lines, each starting one character further along the 95 printable ASCII characters. */
export class Chargen {
  private line = 0;
  private readonly pattern: Buffer;

  constructor() {
    const printable = Buffer.alloc(95);
    for (let i = 0; i < 95; i++) printable[i] = 32 + i;
    this.pattern = Buffer.concat([printable, printable]);
  }

  /** The next `lines` lines (74 bytes each with CRLF). */
  next(lines: number): Buffer {
    const out = Buffer.allocUnsafe(lines * 74);
    for (let i = 0; i < lines; i++) {
      const start = this.line++ % 95;
      this.pattern.copy(out, i * 74, start, start + 72);
      out[i * 74 + 72] = 13;
      out[i * 74 + 73] = 10;
    }
    return out;
  }
}

function chargen(pipe: Pipe): void {
  const gen = new Chargen();
  const h = pipe.handlers;
  let ended = false;
  const fill = () => {
    while (!ended && !pipe.closed && pipe.queuedBytes < CHARGEN_LOW_WATER_BYTES) pipe.write(gen.next(Math.ceil(CHUNK_BYTES / 74)));
  };
  h.data = () => {};
  h.drain = fill;
  h.end = () => {
    ended = true;
    pipe.end();
  };
  // The first fill once the handshake completed (the pipe queues before then).
  fill();
}

/** Seeded pseudo-random bytes, generated in chunks. */
export class RandomBytes {
  private readonly prng: Prng;
  remaining: number;

  constructor(seed: number, totalBytes: number) {
    this.prng = new Prng(seed);
    this.remaining = totalBytes;
  }

  next(maxBytes = CHUNK_BYTES): Uint8Array {
    const n = Math.min(maxBytes, this.remaining);
    const out = new Uint8Array(Math.ceil(n / 4) * 4);
    const view = new DataView(out.buffer);
    for (let i = 0; i < out.length; i += 4) view.setUint32(i, this.prng.nextUint32());
    this.remaining -= n;
    return out.subarray(0, n);
  }
}

export interface EchoCheckResult {
  sentBytes: number;
  receivedBytes: number;
  sentSha256: string;
  receivedSha256: string;
  match: boolean;
  /** Bytes of echo that arrived after our FIN left (the half-close kept the other direction open). */
  receivedAfterShutdownBytes: number;
}

/**
 * Send `totalBytes` seeded bytes on `pipe`, half-close, read everything the peer sends back until its FIN, and
 * compare SHA-256 digests. Rejects if the connection fails.
 */
export function sendAndCheckEcho(pipe: Pipe, totalBytes: number, seed: number): Promise<EchoCheckResult> {
  return new Promise((resolve, reject) => {
    const src = new RandomBytes(seed, totalBytes);
    const sentHash = createHash('sha256');
    const receivedHash = createHash('sha256');
    let received = 0;
    let afterShutdown = 0;
    let shutdownSent = false;
    const h = pipe.handlers;
    const fill = () => {
      while (src.remaining > 0 && pipe.queuedBytes < CHARGEN_LOW_WATER_BYTES) {
        const chunk = src.next();
        sentHash.update(chunk);
        pipe.write(chunk);
      }
      if (src.remaining === 0 && !shutdownSent) {
        shutdownSent = true;
        pipe.end();
      }
    };
    h.connect = fill;
    h.drain = fill;
    h.data = (chunk) => {
      received += chunk.length;
      if (shutdownSent && pipe.queuedBytes === 0) afterShutdown += chunk.length;
      receivedHash.update(chunk);
    };
    h.end = () => {
      const sent = sentHash.digest('hex');
      const got = receivedHash.digest('hex');
      resolve({ sentBytes: totalBytes, receivedBytes: received, sentSha256: sent, receivedSha256: got, match: sent === got && received === totalBytes, receivedAfterShutdownBytes: afterShutdown });
    };
    h.close = (error) => {
      if (error) reject(Object.assign(new Error(error.message), { code: error.code }));
      else reject(new Error('the connection closed before the echo ended'));
    };
    if (pipe.conn.state === 'ESTABLISHED') fill();
  });
}
