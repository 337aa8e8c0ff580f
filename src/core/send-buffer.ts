// The bounded send buffer: bytes from SND.UNA (acknowledged ones are dropped) to the last byte written.
import { ByteRing } from './byte-ring.js';

export class SendBuffer {
  private readonly ring: ByteRing;
  /** Bytes held: unacknowledged plus not yet sent. */
  lengthBytes = 0;

  constructor(readonly limitBytes: number) {
    this.ring = new ByteRing(limitBytes);
  }

  get freeBytes(): number {
    return this.limitBytes - this.lengthBytes;
  }

  /** Append as much of `bytes` as fits; returns how many were taken (backpressure). */
  write(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, this.freeBytes);
    if (n === 0) return 0;
    this.ring.ensure(this.lengthBytes + n, this.lengthBytes);
    this.ring.write(this.lengthBytes, bytes, 0, n);
    this.lengthBytes += n;
    return n;
  }

  /** Copy n bytes starting `offset` bytes after SND.UNA into dst. */
  copy(offset: number, dst: Uint8Array, dstOffset: number, n: number): void {
    this.ring.read(offset, dst, dstOffset, n);
  }

  /** The peer acknowledged n bytes. */
  acknowledge(n: number): void {
    this.ring.advance(n);
    this.lengthBytes -= n;
  }

  /** Give the memory back (the connection is done with it). */
  release(): void {
    if (this.lengthBytes === 0) this.ring.release();
  }

  snapshotBytes(): Uint8Array {
    return this.ring.copyOut(this.lengthBytes);
  }
}
