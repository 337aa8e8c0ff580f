// A capture of stevens datagrams in one view, per datagram: what the Node driver, the simulator hook, soak
// --pcap and tun --pcap call. One pcapng file, one interface (link type RAW), one packet per datagram.
import { wire, type Remote } from '../core/index.js';
import { PcapngWriter, type CaptureSink, type CaptureTime } from './pcapng.js';
import { LINKTYPE_RAW, viewPacket, type CaptureView } from './views.js';

const { decodeDatagram } = wire;

export interface RecorderOptions {
  /** 'tcp' (default): segments as IP + TCP packets; 'udp': the datagrams as sent, in IP + UDP. */
  view?: CaptureView;
  /** Interface name shown by Wireshark (default "stevens-tcp" / "stevens-udp"). */
  name?: string;
  description?: string;
  /** Section comment (e.g. the seed and profile of a simulated run). */
  comment?: string;
}

export class CaptureRecorder {
  readonly view: CaptureView;
  readonly writer: PcapngWriter;
  private readonly ifIndex: number;
  /** Datagrams written as UDP in the TCP view (unreliable datagrams, invalid stevens datagrams). */
  writtenAsUdp = 0;

  constructor(sink: CaptureSink, options: RecorderOptions = {}) {
    this.view = options.view ?? 'tcp';
    this.writer = new PcapngWriter(sink, { comment: options.comment });
    this.ifIndex = this.writer.addInterface({
      linkType: LINKTYPE_RAW,
      name: options.name ?? `stevens-${this.view}`,
      description:
        options.description ??
        (this.view === 'tcp'
          ? 'stevens segments re-framed as IP + TCP (unreliable and invalid datagrams as IP + UDP)'
          : 'stevens datagrams as sent, in IP + UDP'),
    });
  }

  /**
   * One datagram from src to dst (UDP addresses) at `time` (ns bigint, or ms number). In the TCP view, a datagram
   * that carries no valid segment is written as UDP with a comment saying why, so nothing is hidden.
   */
  record(time: CaptureTime, src: Remote, dst: Remote, datagram: Uint8Array, comment?: string): void {
    const p = viewPacket(this.view, datagram, src, dst);
    let note = comment;
    if (this.view === 'tcp' && p.kind === 'udp') {
      this.writtenAsUdp++;
      const d = decodeDatagram(datagram);
      const why = d.ok ? 'stevens unreliable datagram' : `invalid stevens datagram (${d.reason})`;
      note = note === undefined ? why : `${why}; ${note}`;
    }
    this.writer.writePacket(this.ifIndex, time, p.bytes, note);
  }

  close(): void {
    this.writer.close();
  }
}
