// The TUN side's capture: every IP packet that crosses the device, written with the capture module's pcapng
// writer on one interface of link type RAW (101): each record is an IPv4 or IPv6 packet, no link-layer header.
// Inbound packets dropped by the --loss rule are recorded (they did cross the device) with a comment saying so.
// The file is written synchronously in chunks; close() writes the rest.
import { closeSync, openSync, writeSync } from 'node:fs';
import { LINKTYPE_RAW, PcapngWriter } from '../capture/index.js';

const FLUSH_BYTES = 1 << 20;

/** What the TUN driver records packets into. */
export interface PacketRecorder {
  /** One IP packet that crossed the TUN device at wall-clock time `atMs` (ms since the epoch, fractional). */
  record(packet: Uint8Array, atMs: number, comment?: string): void;
  close(): void;
}

/** A buffered synchronous file sink (the capture survives the process being stopped right after close()). */
class FileSink {
  private readonly fd: number;
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private closed = false;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  write(chunk: Uint8Array): void {
    if (this.closed) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.chunks.length === 0) return;
    writeSync(this.fd, Buffer.concat(this.chunks, this.buffered));
    this.chunks = [];
    this.buffered = 0;
  }

  end(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    closeSync(this.fd);
  }
}

/** A pcapng file with one raw-IP interface named after the TUN device. */
export class TunCapture implements PacketRecorder {
  private readonly writer: PcapngWriter;
  private readonly iface: number;

  constructor(path: string, device: string) {
    this.writer = new PcapngWriter(new FileSink(path), { application: 'stevens tun' });
    this.iface = this.writer.addInterface({ linkType: LINKTYPE_RAW, name: device, description: `stevens tun: the TUN device ${device} (raw IP)` });
  }

  get packets(): number {
    return this.writer.packets;
  }

  record(packet: Uint8Array, atMs: number, comment?: string): void {
    this.writer.writePacket(this.iface, atMs, packet, comment);
  }

  close(): void {
    this.writer.close();
  }
}
