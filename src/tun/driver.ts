// Binds one Endpoint to a TUN device through socat: socat reads IP packets from the device and sends each as one
// UDP datagram to a loopback port this driver owns, and writes each datagram it receives from us to the device.
// Outbound segments are framed as real IPv4/IPv6+TCP packets (src/ip/framing.ts); inbound packets are checked
// and turned back into the core's datagrams. The core sees the kernel as the remote { address, port: 0 } (the TCP
// ports are in the header). Which packets are lost is a LossRule the driver is given (src/tun/loss.ts). What
// happens between the socket and the endpoint (clock, flushes, the timer) is the shared loop, src/driver/loop.ts,
// as in the Node driver.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { Endpoint, type EndpointEvent, type EndpointOptions, type Remote } from '../core/index.js';
import { bytesToIpv6, ipv6ToBytes } from '../ip/address.js';
import { datagramToIp, ipToDatagram } from '../ip/framing.js';
import { monotonicMs } from '../driver/clock.js';
import { DriverLoop } from '../driver/loop.js';
import type { LossRule } from './loss.js';
import type { PacketRecorder } from './pcap.js';

const SOCKET_BUFFER_BYTES = 4 << 20;
const LOOPBACK = '127.0.0.1';

/**
 * The core's "UDP port" of the kernel: meaningless here (every packet goes to socat; the TCP ports are in the
 * header), the same for inbound packets and for connect() so the endpoint's demultiplexing matches. It would be 0,
 * but Endpoint.connect() refuses a remote port of 0 (checkPort), so active opens could not use it: 1 it is.
 */
export const KERNEL_UDP_PORT = 1;

export interface TunDriverOptions extends EndpointOptions {
  /** Our IPv4 address (the source of IPv4 packets we send, the only IPv4 destination we accept). */
  address?: string;
  /** Our IPv6 address. */
  address6?: string;
  /** Which packets are lost each way (e.g. a SeededLoss); none without. */
  loss?: LossRule;
  /** Records every packet that crosses the TUN: all inbound ones (loss applies after), the outbound ones not lost. */
  recorder?: PacketRecorder;
  /** The endpoint to drive, built by the caller (e.g. a RecordingEndpoint); the endpoint options are then ignored. */
  endpoint?: Endpoint;
}

export interface TunDriverEvents {
  event: [EndpointEvent];
  error: [Error];
}

export interface TunDriverCounters {
  packetsIn: number;
  packetsOut: number;
  /** Inbound packets dropped by the loss rule. */
  lossDroppedIn: number;
  /** Outbound packets dropped by the loss rule. */
  lossDroppedOut: number;
  /** Unreliable stevens datagrams, which have no IP form and are not sent. */
  unreliableNotSent: number;
  sendErrors: number;
  /** Inbound packets dropped before the core, by reason (ipToDatagram's reasons, 'not-our-address', 'foreign-sender'). */
  drops: Record<string, number>;
}

export class TunDriver extends EventEmitter<TunDriverEvents> {
  readonly endpoint: Endpoint;
  readonly counters: TunDriverCounters = { packetsIn: 0, packetsOut: 0, lossDroppedIn: 0, lossDroppedOut: 0, unreliableNotSent: 0, sendErrors: 0, drops: {} };
  private readonly loop: DriverLoop;
  private readonly address: string | undefined;
  private readonly address6: string | undefined;
  private readonly loss: LossRule | undefined;
  private readonly recorder: PacketRecorder | undefined;
  private socket: UdpSocket | undefined;
  private socatPort = 0;
  private ident = 1;
  /** Offset from the monotonic clock to wall-clock time, for capture timestamps. */
  private readonly wallOffsetMs = Date.now() - monotonicMs();

  constructor(options: TunDriverOptions) {
    super();
    const { address, address6, loss, recorder, endpoint, ...endpointOptions } = options;
    if (address === undefined && address6 === undefined) throw new TypeError('TunDriver needs an address or an address6');
    this.endpoint = endpoint ?? new Endpoint(endpointOptions);
    this.address = address;
    // Sources of arriving packets are compared in canonical form (RFC 5952), as the framing prints them.
    this.address6 = address6 === undefined ? undefined : bytesToIpv6(ipv6ToBytes(address6), 0);
    this.loss = loss;
    this.recorder = recorder;
    this.loop = new DriverLoop(this.endpoint, {
      send: (remote, bytes, sent) => this.send(remote, bytes, sent),
      event: (ev) => this.emit('event', ev),
    });
  }

  /** Bind the loopback UDP socket socat will talk to (before socat starts); resolves with its port. */
  async bind(): Promise<number> {
    const socket = createSocket({ type: 'udp4', recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES });
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
    socket.on('error', (err) => this.emitError(err));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: 0, address: LOOPBACK }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.socket = socket;
    return socket.address().port;
  }

  /** Where socat's end of the bridge listens (its bind= port). */
  setSocatPort(port: number): void {
    this.socatPort = port;
  }

  /** Our address for packets to `remote` (the same family). */
  sourceFor(remote: string): string | undefined {
    return remote.includes(':') ? this.address6 : this.address;
  }

  /** Run `fn` against the endpoint at the current time, then move everything it produced. */
  act<T>(fn: (nowMs: number) => T): T {
    return this.loop.act(fn);
  }

  private onMessage(msg: Buffer, address: string, port: number): void {
    if (this.loop.closed) return;
    if (address !== LOOPBACK || port !== this.socatPort) {
      this.drop('foreign-sender');
      return;
    }
    this.counters.packetsIn++;
    const lost = this.loss !== undefined && this.loss.dropInbound(msg);
    this.recorder?.record(msg, this.wallOffsetMs + monotonicMs(), lost ? 'dropped by stevens (inbound loss rule)' : undefined);
    if (lost) {
      this.counters.lossDroppedIn++;
      return;
    }
    const decoded = ipToDatagram(msg);
    if (!decoded.ok) {
      this.drop(decoded.reason);
      return;
    }
    const ip = decoded.value;
    if (ip.dst !== (ip.family === 6 ? this.address6 : this.address)) {
      this.drop('not-our-address');
      return;
    }
    this.loop.datagram({ address: ip.src, port: KERNEL_UDP_PORT }, ip.datagram);
  }

  private drop(reason: string): void {
    this.counters.drops[reason] = (this.counters.drops[reason] ?? 0) + 1;
  }

  /** Hand events to the application, then drain sends (see DriverLoop.flush); nested calls fold in. */
  flush(): void {
    this.loop.flush();
  }

  /** Flush later in this loop turn (a flush running now takes it in): what the Pipes call after a change. */
  requestFlush(): void {
    this.loop.requestFlush();
  }

  /** The loop's send: frame the datagram and write it to socat, unless it cannot be framed or the loss rule takes it. */
  private send(remote: Remote, bytes: Uint8Array, sent: (() => void) | undefined): void {
    const packet = this.frame(remote.address, bytes);
    const socket = this.socket;
    if (packet === undefined || socket === undefined || this.socatPort === 0) {
      if (packet !== undefined) this.counters.sendErrors++;
      sent?.();
      return;
    }
    this.counters.packetsOut++;
    // Only the flush's last packet carries a callback (a tick each otherwise): a lasting failure still shows.
    socket.send(
      packet,
      this.socatPort,
      LOOPBACK,
      sent === undefined
        ? undefined
        : (err) => {
            sent();
            if (err) {
              this.counters.sendErrors++;
              this.emitError(err);
            }
          },
    );
  }

  /** The IP packet for a datagram to `remote`, or undefined (counted) when it has none or is lost on the way out. */
  private frame(remote: string, bytes: Uint8Array): Uint8Array | undefined {
    const src = this.sourceFor(remote);
    if (src === undefined) {
      this.counters.sendErrors++;
      return undefined;
    }
    const framed = datagramToIp(bytes, src, remote, this.ident);
    if (!framed.ok) {
      // Unreliable datagrams (the only thing that fails here) have no IP form.
      this.counters.unreliableNotSent++;
      return undefined;
    }
    this.ident = (this.ident + 1) & 0xffff;
    // Lost on the way out: it never reaches the TUN, so the capture does not show it.
    if (this.loss !== undefined && this.loss.dropOutbound(framed.value)) {
      this.counters.lossDroppedOut++;
      return undefined;
    }
    this.recorder?.record(framed.value, this.wallOffsetMs + monotonicMs());
    return framed.value;
  }

  private emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** Stop: the sends already handed to the socket leave, then the socket closes (connections are not told). */
  async close(): Promise<void> {
    await this.loop.close();
    const socket = this.socket;
    if (socket !== undefined) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
