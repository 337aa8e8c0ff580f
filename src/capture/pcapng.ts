// A streaming pcapng writer (the PCAP Next Generation format, IETF draft-ietf-opsawg-pcapng): one Section Header
// Block, Interface Description Blocks, Enhanced Packet Blocks with nanosecond timestamps (if_tsresol = 9) and
// optional comments (opt_comment). Little-endian throughout (the byte-order magic tells readers).
//
//   block:  type (u32) | total length (u32) | body ... padded to 4 | total length (u32)
//   option: code (u16) | length (u16) | value padded to 4;  the list ends with opt_endofopt (0, 0)
//
// Each call writes whole blocks to the sink, so a capture cut short by a crash is still readable up to its last
// complete block.

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 0x00000001;
const BT_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const DEFAULT_SNAPLEN = 262144;

/** Where the bytes go: a function, or anything with write() (a Writable, an array-backed sink); end() if it has one. */
export type CaptureSink = ((chunk: Uint8Array) => void) | { write(chunk: Uint8Array): unknown; end?(): unknown };

export interface InterfaceOptions {
  /** pcap link type: 101 (RAW) for the views in views.ts. */
  linkType: number;
  name?: string;
  description?: string;
  snapLength?: number;
}

/** Nanoseconds as a bigint, or milliseconds as a number (fractions kept to the nanosecond). */
export type CaptureTime = bigint | number;

export function toNanoseconds(time: CaptureTime): bigint {
  if (typeof time === 'bigint') return time;
  if (!Number.isFinite(time)) throw new RangeError(`capture time must be finite, got ${time}`);
  const whole = Math.floor(time);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((time - whole) * 1e6));
}

const encoder = new TextEncoder();

function optionsLength(options: [number, Uint8Array][]): number {
  if (options.length === 0) return 0;
  let n = 4; // opt_endofopt
  for (const [, v] of options) n += 4 + ((v.length + 3) & ~3);
  return n;
}

function writeOptions(view: DataView, out: Uint8Array, at: number, options: [number, Uint8Array][]): number {
  if (options.length === 0) return at;
  for (const [code, v] of options) {
    view.setUint16(at, code, true);
    view.setUint16(at + 2, v.length, true);
    out.set(v, at + 4);
    at += 4 + ((v.length + 3) & ~3);
  }
  view.setUint16(at, OPT_ENDOFOPT, true);
  view.setUint16(at + 2, 0, true);
  return at + 4;
}

function block(type: number, bodyLength: number, fill: (view: DataView, out: Uint8Array) => void): Uint8Array {
  const total = 12 + bodyLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, total, true);
  fill(view, out);
  view.setUint32(total - 4, total, true);
  return out;
}

export class PcapngWriter {
  private readonly interfaces: InterfaceOptions[] = [];
  private closed = false;
  /** Packets written so far. */
  packets = 0;

  constructor(
    private readonly sink: CaptureSink,
    options: { application?: string; comment?: string } = {},
  ) {
    const opts: [number, Uint8Array][] = [[SHB_USERAPPL, encoder.encode(options.application ?? 'stevens')]];
    if (options.comment) opts.push([OPT_COMMENT, encoder.encode(options.comment)]);
    this.emit(
      block(BT_SHB, 16 + optionsLength(opts), (view, out) => {
        view.setUint32(8, BYTE_ORDER_MAGIC, true);
        view.setUint16(12, 1, true); // major version
        view.setUint16(14, 0, true); // minor version
        view.setBigInt64(16, -1n, true); // section length: not given
        writeOptions(view, out, 24, opts);
      }),
    );
  }

  /** Declares an interface; returns its index for writePacket. Timestamps are in nanoseconds (if_tsresol 9). */
  addInterface(options: InterfaceOptions): number {
    if (this.closed) throw new Error('the capture is closed');
    const opts: [number, Uint8Array][] = [];
    if (options.name) opts.push([IF_NAME, encoder.encode(options.name)]);
    if (options.description) opts.push([IF_DESCRIPTION, encoder.encode(options.description)]);
    opts.push([IF_TSRESOL, Uint8Array.of(9)]);
    this.emit(
      block(BT_IDB, 8 + optionsLength(opts), (view, out) => {
        view.setUint16(8, options.linkType, true);
        view.setUint16(10, 0, true);
        view.setUint32(12, options.snapLength ?? DEFAULT_SNAPLEN, true);
        writeOptions(view, out, 16, opts);
      }),
    );
    this.interfaces.push(options);
    return this.interfaces.length - 1;
  }

  /** One packet on an interface at `time` (ns as bigint, or ms as a number), with an optional comment. */
  writePacket(ifIndex: number, time: CaptureTime, bytes: Uint8Array, comment?: string): void {
    if (this.closed) throw new Error('the capture is closed');
    const iface = this.interfaces[ifIndex];
    if (iface === undefined) throw new RangeError(`no interface ${ifIndex} (add it with addInterface first)`);
    const ns = toNanoseconds(time);
    if (ns < 0n) throw new RangeError(`capture time must not be negative, got ${ns} ns`);
    const snap = iface.snapLength ?? DEFAULT_SNAPLEN;
    const captured = Math.min(bytes.length, snap);
    const opts: [number, Uint8Array][] = comment ? [[OPT_COMMENT, encoder.encode(comment)]] : [];
    this.emit(
      block(BT_EPB, 20 + ((captured + 3) & ~3) + optionsLength(opts), (view, out) => {
        view.setUint32(8, ifIndex, true);
        view.setUint32(12, Number(ns >> 32n), true);
        view.setUint32(16, Number(ns & 0xffffffffn), true);
        view.setUint32(20, captured, true);
        view.setUint32(24, bytes.length, true);
        out.set(captured === bytes.length ? bytes : bytes.subarray(0, captured), 28);
        writeOptions(view, out, 28 + ((captured + 3) & ~3), opts);
      }),
    );
    this.packets++;
  }

  /** Ends the sink (when it has end()); later writes throw. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const s = this.sink;
    if (typeof s !== 'function') s.end?.();
  }

  private emit(bytes: Uint8Array): void {
    const s = this.sink;
    if (typeof s === 'function') s(bytes);
    else s.write(bytes);
  }
}

/** A sink that keeps everything in memory; bytes() joins it. */
export class MemorySink {
  private readonly chunks: Uint8Array[] = [];
  write(chunk: Uint8Array): void {
    this.chunks.push(chunk);
  }
  bytes(): Uint8Array {
    let n = 0;
    for (const c of this.chunks) n += c.length;
    const out = new Uint8Array(n);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
