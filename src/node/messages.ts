// Length-prefixed reliable messages over a stream, for the common game case (chat, commands, state deltas):
// each message is a 4-byte big-endian length and its bytes. Malformed input (a length over the limit) is an
// error on the channel, never a crash.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';

export interface MessageChannelEvents {
  message: [Buffer];
  error: [Error];
  end: [];
}

const HEADER_BYTES = 4;
const DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;

export class MessageChannel extends EventEmitter<MessageChannelEvents> {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private needed = HEADER_BYTES;
  private readingHeader = true;

  constructor(
    readonly stream: Duplex,
    private readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
  ) {
    super();
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => this.emit('end'));
    stream.on('error', (err) => this.emit('error', err));
  }

  /** Queue one message; returns the stream's write() result (false: wait for 'drain'). */
  send(payload: Uint8Array | string): boolean {
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    if (body.length > this.maxMessageBytes) throw new RangeError(`message of ${body.length} bytes exceeds the limit of ${this.maxMessageBytes}`);
    const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
    frame.writeUInt32BE(body.length, 0);
    frame.set(body, HEADER_BYTES);
    return this.stream.write(frame);
  }

  private onData(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    while (this.pendingBytes >= this.needed) {
      const bytes = this.take(this.needed);
      if (this.readingHeader) {
        const len = bytes.readUInt32BE(0);
        if (len > this.maxMessageBytes) {
          this.stream.destroy(new Error(`peer sent a message of ${len} bytes, over the limit of ${this.maxMessageBytes}`));
          return;
        }
        this.needed = len;
        this.readingHeader = false;
        if (len === 0) this.deliver(Buffer.alloc(0));
      } else {
        this.deliver(bytes);
      }
    }
  }

  private deliver(message: Buffer): void {
    this.needed = HEADER_BYTES;
    this.readingHeader = true;
    this.emit('message', message);
  }

  private take(n: number): Buffer {
    const first = this.pending[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.pending[0]!;
        const k = Math.min(c.length, n - off);
        c.copy(out, off, 0, k);
        off += k;
        if (k === c.length) this.pending.shift();
        else this.pending[0] = c.subarray(k);
      }
    }
    this.pendingBytes -= n;
    return out;
  }
}
