// A growable ring of bytes, addressed by offset from its head. Both stream buffers sit on it: memory grows with
// what is buffered (idle connections hold almost nothing) up to the configured limit.

const INITIAL_BYTES = 4096;

export class ByteRing {
  private buf: Uint8Array = EMPTY;
  private head = 0;

  constructor(readonly limitBytes: number) {}

  get capacityBytes(): number {
    return this.buf.length;
  }

  /** Make room for `bytes` bytes from the head; `liveBytes` are kept (the rest is garbage). */
  ensure(bytes: number, liveBytes: number): void {
    if (bytes <= this.buf.length) return;
    if (bytes > this.limitBytes) throw new RangeError('ByteRing: beyond limit');
    let size = Math.max(this.buf.length, INITIAL_BYTES);
    while (size < bytes) size *= 2;
    if (size > this.limitBytes) size = this.limitBytes;
    const next = new Uint8Array(size);
    if (liveBytes > 0) this.read(0, next, 0, liveBytes);
    this.buf = next;
    this.head = 0;
  }

  /** Copy n bytes from src into the ring at offset (from head). The ring must be big enough. */
  write(offset: number, src: Uint8Array, srcOffset: number, n: number): void {
    const cap = this.buf.length;
    let pos = this.head + offset;
    if (pos >= cap) pos -= cap;
    const first = Math.min(n, cap - pos);
    copyBytes(src, this.buf, pos, srcOffset, srcOffset + first);
    if (first < n) copyBytes(src, this.buf, 0, srcOffset + first, srcOffset + n);
  }

  /** Copy n bytes at offset (from head) into dst. */
  read(offset: number, dst: Uint8Array, dstOffset: number, n: number): void {
    const cap = this.buf.length;
    let pos = this.head + offset;
    if (pos >= cap) pos -= cap;
    const first = Math.min(n, cap - pos);
    copyBytes(this.buf, dst, dstOffset, pos, pos + first);
    if (first < n) copyBytes(this.buf, dst, dstOffset + first, 0, n - first);
  }

  /** Drop n bytes from the head. */
  advance(n: number): void {
    if (this.buf.length === 0) return;
    this.head += n;
    if (this.head >= this.buf.length) this.head %= this.buf.length;
  }

  /** Give the memory back when nothing is buffered. */
  release(): void {
    this.buf = EMPTY;
    this.head = 0;
  }

  /** For snapshots: the live bytes from the head, copied. */
  copyOut(n: number): Uint8Array {
    const out = new Uint8Array(n);
    if (n > 0) this.read(0, out, 0, n);
    return out;
  }
}

const EMPTY = new Uint8Array(0);

/** src[from, to) into dst at dstOffset, through a plain view (a Buffer's own subarray costs more). */
function copyBytes(src: Uint8Array, dst: Uint8Array, dstOffset: number, from: number, to: number): void {
  dst.set(new Uint8Array(src.buffer, src.byteOffset + from, to - from), dstOffset);
}
