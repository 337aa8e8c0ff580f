// Binds one Endpoint to a TUN device through socat: socat reads IP packets from the device and sends each as one
// UDP datagram to a loopback port this driver owns, and writes each datagram it receives from us to the device.
// Outbound segments are framed as real IPv4/IPv6+TCP packets (src/ip/framing.ts); inbound packets are checked
// and turned back into the core's datagrams. The core sees the kernel as the remote { address, port: 0 } (the TCP
// ports are in the header). Same shape as src/node/driver.ts: drain pollTransmit after inputs, one timer armed
// from pollTimeoutMs(), a monotonic clock.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { Endpoint, type EndpointEvent, type EndpointOptions } from '../core/index.js';
import { Prng } from '../util/prng.js';
import { bytesToIpv6, ipv6ToBytes } from '../ip/address.js';
import { datagramToIp, ipToDatagram } from '../ip/framing.js';
import { monotonicMs } from '../node/clock.js';
import { DeadlineTimer } from '../node/deadline-timer.js';
import type { PacketRecorder } from './pcap.js';

const SOCKET_BUFFER_BYTES = 4 << 20;
/** Sends per flush before yielding to the event loop, so inbound packets (ACKs) are read meanwhile. */
const SENDS_PER_TURN = 32;
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
  /** Drop packets arriving from the TUN with this probability (seeded by lossSeed), before anything else looks at them. */
  lossInbound?: number;
  /** Drop packets we would send to the TUN with this probability (the kernel's inbound loss); a separate seeded rule. */
  lossOutbound?: number;
  lossSeed?: number;
  /** Records every packet that crosses the TUN: all inbound ones (loss applies after), the outbound ones not lost. */
  recorder?: PacketRecorder;
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
  private readonly address: string | undefined;
  private readonly address6: string | undefined;
  private readonly lossIn: number;
  private readonly lossOut: number;
  private readonly lossPrngIn: Prng;
  private readonly lossPrngOut: Prng;
  private readonly recorder: PacketRecorder | undefined;
  private socket: UdpSocket | undefined;
  private socatPort = 0;
  private ident = 1;
  private readonly timer = new DeadlineTimer(() => {
    // After this turn's I/O: when the process was stalled (GC, a busy machine) past a deadline, the packets
    // that arrived meanwhile (ACKs) are handled before the timer, so an RTO that they make moot does not fire
    // and retransmit spuriously. setImmediate runs after the poll phase, which reads the socket.
    setImmediate(() => {
      if (this.closed) return;
      this.endpoint.handleTimeout(monotonicMs());
      this.flush();
    });
  });
  private flushScheduled = false;
  private closed = false;
  private sendsInFlight = 0;
  private sendsDrained: (() => void) | undefined;
  /** Offset from the monotonic clock to wall-clock time, for capture timestamps. */
  private readonly wallOffsetMs = Date.now() - monotonicMs();

  constructor(options: TunDriverOptions) {
    super();
    const { address, address6, lossInbound, lossOutbound, lossSeed, recorder, ...endpointOptions } = options;
    if (address === undefined && address6 === undefined) throw new TypeError('TunDriver needs an address or an address6');
    this.endpoint = new Endpoint(endpointOptions);
    this.address = address;
    // Sources of arriving packets are compared in canonical form (RFC 5952), as the framing prints them.
    this.address6 = address6 === undefined ? undefined : bytesToIpv6(ipv6ToBytes(address6), 0);
    this.lossIn = lossInbound ?? 0;
    this.lossOut = lossOutbound ?? 0;
    const seed = lossSeed ?? 1;
    this.lossPrngIn = new Prng(seed);
    this.lossPrngOut = new Prng(seed ^ 0x5bd1e995);
    this.recorder = recorder;
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
    const out = fn(monotonicMs());
    this.flush();
    return out;
  }

  private onMessage(msg: Buffer, address: string, port: number): void {
    if (this.closed) return;
    if (address !== LOOPBACK || port !== this.socatPort) {
      this.drop('foreign-sender');
      return;
    }
    this.counters.packetsIn++;
    const lost = this.lossIn > 0 && this.lossPrngIn.nextFloat() < this.lossIn;
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
    if (decoded.dst !== (decoded.family === 6 ? this.address6 : this.address)) {
      this.drop('not-our-address');
      return;
    }
    this.endpoint.handleDatagram(monotonicMs(), { address: decoded.src, port: KERNEL_UDP_PORT }, decoded.datagram);
    this.requestFlush();
  }

  private drop(reason: string): void {
    this.counters.drops[reason] = (this.counters.drops[reason] ?? 0) + 1;
  }

  /** Drain sends and events, then re-arm the one timer. */
  flush(): void {
    if (this.closed) return;
    const now = monotonicMs();
    let sent = 0;
    for (let t = this.endpoint.pollTransmit(now); t !== undefined; t = this.endpoint.pollTransmit(now)) {
      this.send(t.remote.address, t.bytes);
      if (++sent >= SENDS_PER_TURN) {
        this.requestFlush();
        break;
      }
    }
    for (let ev = this.endpoint.pollEvent(); ev !== undefined; ev = this.endpoint.pollEvent()) this.emit('event', ev);
    this.armTimer();
  }

  /** Flush on the next turn of the event loop (handlers of the driver's events call this, never flush()). */
  requestFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private send(remote: string, bytes: Uint8Array): void {
    const src = this.sourceFor(remote);
    if (src === undefined) {
      this.counters.sendErrors++;
      return;
    }
    const framed = datagramToIp(bytes, src, remote, this.ident);
    if (!framed.ok) {
      // Unreliable datagrams (the only thing that fails here) have no IP form.
      this.counters.unreliableNotSent++;
      return;
    }
    this.ident = (this.ident + 1) & 0xffff;
    // Lost on the way out: it never reaches the TUN, so the capture does not show it.
    if (this.lossOut > 0 && this.lossPrngOut.nextFloat() < this.lossOut) {
      this.counters.lossDroppedOut++;
      return;
    }
    this.recorder?.record(framed.packet, this.wallOffsetMs + monotonicMs());
    const socket = this.socket;
    if (socket === undefined || this.socatPort === 0) {
      this.counters.sendErrors++;
      return;
    }
    this.counters.packetsOut++;
    this.sendsInFlight++;
    socket.send(framed.packet, this.socatPort, LOOPBACK, (err) => {
      if (--this.sendsInFlight === 0) this.sendsDrained?.();
      if (err) {
        this.counters.sendErrors++;
        this.emitError(err);
      }
    });
  }

  private emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private armTimer(): void {
    this.timer.arm(this.endpoint.pollTimeoutMs());
  }

  /** Stop: the sends already handed to the socket leave, then the socket closes (connections are not told). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.timer.cancel();
    if (this.sendsInFlight > 0) await new Promise<void>((resolve) => (this.sendsDrained = resolve));
    const socket = this.socket;
    if (socket !== undefined) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
