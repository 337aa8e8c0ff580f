// Captures for the Node driver: `capture: { path, view }` on createServer() and connect() records every datagram
// the socket's driver sends and receives into a pcapng file (through a write stream), and optionally its core's
// trace events into a JSON-lines file, both closed with the server or the socket.
import { createWriteStream, type WriteStream } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Remote, TraceHook } from '../core/index.js';
import { toNanoseconds } from './pcapng.js';
import { CaptureRecorder } from './recorder.js';
import { jsonlTraceHook } from './trace.js';
import type { CaptureView } from './views.js';

export interface CaptureOptions {
  /** pcapng file to write (created or truncated). */
  path?: string;
  /** Or a stream to write it to (ended when the capture closes). */
  stream?: NodeJS.WritableStream;
  /** 'tcp' (default): Wireshark's TCP analysis works as is; 'udp': the datagrams as sent (see wireshark/stevens.lua). */
  view?: CaptureView;
  /** Also write the core's trace events here, as JSON lines (see src/capture/trace.ts), for `stevens plot`. */
  tracePath?: string;
  /** Label of this side in the trace ("server", "client" by default). */
  endpoint?: string;
  /** Called once both files are completely written (with the first error, if any). */
  onClose?: (err?: Error) => void;
}

/** Wall-clock nanoseconds on the drivers' monotonic clock (so captures and traces line up). */
export function captureNowNs(): bigint {
  return toNanoseconds(performance.timeOrigin) + toNanoseconds(performance.now());
}

const UNSPECIFIED = new Set(['0.0.0.0', '::', '']);

/** The address a socket bound to 0.0.0.0 or :: would send from to reach `remote` (a best guess, no syscall). */
export function sourceAddressFor(local: Remote, remote: Remote): Remote {
  if (!UNSPECIFIED.has(local.address) && local.address.includes(':') === remote.address.includes(':')) return local;
  const v6 = remote.address.includes(':');
  if (!v6 && remote.address.startsWith('127.')) return { address: '127.0.0.1', port: local.port };
  if (v6 && remote.address === '::1') return { address: '::1', port: local.port };
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal || (a.family === 'IPv6') !== v6) continue;
      if (v6 && a.address.startsWith('fe80')) continue;
      return { address: a.address, port: local.port };
    }
  }
  return { address: v6 ? '::' : '0.0.0.0', port: local.port };
}

/** One open capture: hand tap() to a Driver, trace to its Endpoint, close() when done. */
export class NodeCapture {
  private readonly recorder: CaptureRecorder;
  private readonly streams: NodeJS.WritableStream[] = [];
  private closing: Promise<void> | undefined;
  private error: Error | undefined;
  /** A trace hook writing JSON lines, when tracePath was given. */
  readonly trace: TraceHook | undefined;

  constructor(private readonly options: CaptureOptions, defaultEndpoint: string) {
    if (options.path === undefined && options.stream === undefined) throw new TypeError('capture needs a path or a stream');
    const out = options.stream ?? createWriteStream(options.path!);
    this.watch(out);
    this.recorder = new CaptureRecorder(out, { view: options.view ?? 'tcp' });
    if (options.tracePath !== undefined) {
      const t = createWriteStream(options.tracePath);
      this.watch(t);
      const hook = jsonlTraceHook(t, options.endpoint ?? defaultEndpoint);
      this.trace = (ev) => {
        if (this.closing === undefined && this.error === undefined) hook(ev);
      };
    }
  }

  private watch(s: NodeJS.WritableStream): void {
    this.streams.push(s);
    s.on('error', (err: Error) => (this.error ??= err));
  }

  /** A DriverTap: in and out datagrams, with the local wildcard address resolved for the packet headers. */
  readonly tap = (direction: 'in' | 'out', local: Remote, remote: Remote, bytes: Uint8Array): void => {
    if (this.closing !== undefined || this.error !== undefined) return;
    const self = sourceAddressFor(local, remote);
    if (direction === 'out') this.recorder.record(captureNowNs(), self, remote, bytes);
    else this.recorder.record(captureNowNs(), remote, self, bytes);
  };

  /** Ends the files; resolves when they are written (rejects with a write error). */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closing = (async () => {
      const done = this.streams.map(
        (s) =>
          new Promise<void>((resolve) => {
            const w = s as WriteStream;
            if (w.writableFinished || w.destroyed) return resolve();
            s.once('finish', () => resolve());
            s.once('close', () => resolve());
            s.once('error', () => resolve());
          }),
      );
      this.recorder.close();
      for (const s of this.streams.slice(1)) s.end();
      await Promise.all(done);
    })();
    this.closing.then(
      () => this.options.onClose?.(this.error),
      () => undefined,
    );
    return this.closing.then(() => {
      if (this.error !== undefined) throw this.error;
    });
  }
}
