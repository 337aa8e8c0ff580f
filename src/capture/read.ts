// Reading captures back: pcapng (any byte order, any number of sections and interfaces, if_tsresol honoured,
// Enhanced, Simple and obsolete Packet Blocks, opt_comment) and classic pcap (as tcpdump -w writes it:
// microsecond or nanosecond magic, either byte order). A file that is cut short or is not a capture raises a
// CaptureFormatError naming the byte offset; nothing here throws anything else on any input.

export interface CaptureInterface {
  linkType: number;
  snapLength: number;
  name?: string;
  /** Ticks per second of this interface's timestamps. */
  ticksPerSecond: bigint;
}

export interface CapturedPacket {
  /** Index into CaptureFile.interfaces. */
  interfaceId: number;
  /** Nanoseconds since the Unix epoch (or since the start of a simulation). */
  timeNs: bigint;
  bytes: Uint8Array;
  /** Length on the wire (bytes may be shorter when the capture was snapped). */
  originalLength: number;
  comments: string[];
  /** Byte offset of the packet's block or record in the file. */
  offset: number;
}

export interface CaptureFile {
  format: 'pcapng' | 'pcap';
  interfaces: CaptureInterface[];
  packets: CapturedPacket[];
}

export class CaptureFormatError extends Error {
  readonly code = 'ECAPTUREFORMAT';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = 'CaptureFormatError';
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false });

function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

/** pcap or pcapng, told apart by the first four bytes. */
export function readCapture(bytes: Uint8Array): CaptureFile {
  if (bytes.length < 4) throw new CaptureFormatError(`not a capture: only ${bytes.length} bytes`, 0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic === 0x0a0d0d0a) return readPcapng(bytes);
  if ([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(magic)) return readPcap(bytes);
  throw new CaptureFormatError(`not a pcap or pcapng file (magic ${hex32(magic)})`, 0);
}

export function readPcapng(bytes: Uint8Array): CaptureFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: CaptureFile = { format: 'pcapng', interfaces: [], packets: [] };
  /** Interfaces of the current section (ids restart in every section) mapped to indices in out.interfaces. */
  let sectionInterfaces: number[] = [];
  let le = true;
  let at = 0;
  let sawSection = false;
  while (at < bytes.length) {
    if (bytes.length - at < 12) throw new CaptureFormatError(`truncated pcapng block header (${bytes.length - at} of 12 bytes)`, at);
    const typeBe = view.getUint32(at, false);
    if (typeBe === 0x0a0d0d0a) {
      // The byte order comes from the magic, read before the length.
      const magicLe = view.getUint32(at + 8, true);
      if (magicLe === 0x1a2b3c4d) le = true;
      else if (magicLe === 0x4d3c2b1a) le = false;
      else throw new CaptureFormatError(`bad pcapng byte-order magic ${hex32(magicLe)}`, at + 8);
      sectionInterfaces = [];
      sawSection = true;
    } else if (!sawSection) {
      throw new CaptureFormatError(`not a pcapng file (first block type ${hex32(typeBe)})`, at);
    }
    const type = view.getUint32(at, le);
    const total = view.getUint32(at + 4, le);
    if (total < 12 || total % 4 !== 0) throw new CaptureFormatError(`bad pcapng block length ${total}`, at + 4);
    if (at + total > bytes.length) throw new CaptureFormatError(`truncated pcapng block (type ${hex32(type)}, ${total} bytes, ${bytes.length - at} present)`, at);
    if (view.getUint32(at + total - 4, le) !== total) throw new CaptureFormatError(`pcapng block length mismatch (${total} at the start, ${view.getUint32(at + total - 4, le)} at the end)`, at + total - 4);
    const bodyEnd = at + total - 4;
    switch (type) {
      case 0x0a0d0d0a: {
        if (total < 28) throw new CaptureFormatError('pcapng section header too short', at);
        const major = view.getUint16(at + 12, le);
        if (major !== 1) throw new CaptureFormatError(`unsupported pcapng major version ${major}`, at + 12);
        break;
      }
      case 0x00000001: {
        if (total < 20) throw new CaptureFormatError('pcapng interface block too short', at);
        const iface: CaptureInterface = { linkType: view.getUint16(at + 8, le), snapLength: view.getUint32(at + 12, le), ticksPerSecond: 1_000_000n };
        for (const [code, v] of options(view, bytes, at + 16, bodyEnd, le)) {
          if (code === 2) iface.name = decoder.decode(v);
          else if (code === 9 && v.length >= 1) {
            const r = v[0]!;
            const exp = BigInt(r & 0x7f);
            iface.ticksPerSecond = r & 0x80 ? 1n << exp : 10n ** exp;
          }
        }
        sectionInterfaces.push(out.interfaces.length);
        out.interfaces.push(iface);
        break;
      }
      case 0x00000006:
      case 0x00000002: {
        if (total < 32) throw new CaptureFormatError('pcapng packet block too short', at);
        const enhanced = type === 6;
        const id = enhanced ? view.getUint32(at + 8, le) : view.getUint16(at + 8, le);
        const ifIndex = sectionInterfaces[id];
        if (ifIndex === undefined) throw new CaptureFormatError(`packet on undeclared interface ${id}`, at + 8);
        const ts = (BigInt(view.getUint32(at + 12, le)) << 32n) | BigInt(view.getUint32(at + 16, le));
        const captured = view.getUint32(at + 20, le);
        const original = view.getUint32(at + 24, le);
        const dataEnd = at + 28 + captured;
        if (dataEnd > bodyEnd) throw new CaptureFormatError(`packet data (${captured} bytes) runs past its block`, at + 20);
        const comments: string[] = [];
        for (const [code, v] of options(view, bytes, at + 28 + ((captured + 3) & ~3), bodyEnd, le)) if (code === 1) comments.push(decoder.decode(v));
        out.packets.push({
          interfaceId: ifIndex,
          timeNs: toNs(ts, out.interfaces[ifIndex]!.ticksPerSecond),
          bytes: bytes.subarray(at + 28, dataEnd),
          originalLength: original,
          comments,
          offset: at,
        });
        break;
      }
      case 0x00000003: {
        // Simple Packet Block: interface 0, no timestamp.
        const ifIndex = sectionInterfaces[0];
        if (ifIndex === undefined) throw new CaptureFormatError('simple packet block before any interface', at);
        if (total < 16) throw new CaptureFormatError('pcapng simple packet block too short', at);
        const original = view.getUint32(at + 8, le);
        const captured = Math.min(original, out.interfaces[ifIndex]!.snapLength || original, bodyEnd - (at + 12));
        out.packets.push({ interfaceId: ifIndex, timeNs: 0n, bytes: bytes.subarray(at + 12, at + 12 + captured), originalLength: original, comments: [], offset: at });
        break;
      }
      default:
        // Name resolution, statistics, custom and other blocks carry nothing needed here.
        break;
    }
    at += total;
  }
  if (!sawSection) throw new CaptureFormatError('empty pcapng file', 0);
  return out;
}

function* options(view: DataView, bytes: Uint8Array, start: number, end: number, le: boolean): Generator<[number, Uint8Array]> {
  let at = start;
  while (at + 4 <= end) {
    const code = view.getUint16(at, le);
    const len = view.getUint16(at + 2, le);
    if (code === 0) return;
    if (at + 4 + len > end) throw new CaptureFormatError(`option ${code} (${len} bytes) runs past its block`, at);
    yield [code, bytes.subarray(at + 4, at + 4 + len)];
    at += 4 + ((len + 3) & ~3);
  }
}

function toNs(ticks: bigint, perSecond: bigint): bigint {
  if (perSecond === 1_000_000_000n) return ticks;
  return (ticks * 1_000_000_000n) / perSecond;
}

export function readPcap(bytes: Uint8Array): CaptureFile {
  if (bytes.length < 24) throw new CaptureFormatError(`truncated pcap file header (${bytes.length} of 24 bytes)`, 0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new CaptureFormatError(`not a pcap file (magic ${hex32(view.getUint32(0, false))})`, 0);
  const m = view.getUint32(0, le);
  const nano = m === 0xa1b23c4d;
  const snapLength = view.getUint32(16, le);
  // The upper bits of the link-type field may carry FCS information (pcap-savefile(5)).
  const linkType = view.getUint32(20, le) & 0x0fffffff;
  const out: CaptureFile = { format: 'pcap', interfaces: [{ linkType, snapLength, ticksPerSecond: nano ? 1_000_000_000n : 1_000_000n }], packets: [] };
  let at = 24;
  while (at < bytes.length) {
    if (bytes.length - at < 16) throw new CaptureFormatError(`truncated pcap record header (${bytes.length - at} of 16 bytes)`, at);
    const sec = BigInt(view.getUint32(at, le));
    const frac = BigInt(view.getUint32(at + 4, le));
    const captured = view.getUint32(at + 8, le);
    const original = view.getUint32(at + 12, le);
    if (captured > 0x4000000) throw new CaptureFormatError(`implausible pcap record length ${captured}`, at + 8);
    if (at + 16 + captured > bytes.length) throw new CaptureFormatError(`truncated pcap record (${captured} bytes, ${bytes.length - at - 16} present)`, at);
    out.packets.push({
      interfaceId: 0,
      timeNs: sec * 1_000_000_000n + (nano ? frac : frac * 1000n),
      bytes: bytes.subarray(at + 16, at + 16 + captured),
      originalLength: original,
      comments: [],
      offset: at,
    });
    at += 16 + captured;
  }
  return out;
}
