// An attacker in the lab: datagrams with spoofed sources injected at a host (Simulator.inject), decided by a
// seed. SYN floods from random addresses, blind injection at a live connection's ports (RST, SYN, ACK or data
// with guessed numbers, claiming the honest client's address), replays of captured datagrams, and garbage.
import { wire, type Remote } from '../core/index.js';
import { Prng } from '../util/prng.js';
import type { Simulator } from './simulator.js';

const { ACK, RST, SYN, encodeSegmentDatagram } = wire;

export type BlindKind = 'rst' | 'syn' | 'ack' | 'data';

export interface AdversaryStats {
  datagramsSent: number;
  bytesSent: number;
}

/** Full options as a Linux SYN carries them, or none (the smallest SYN: 26 bytes). */
export type SynOptions = 'none' | 'full';

export class Adversary {
  readonly stats: AdversaryStats = { datagramsSent: 0, bytesSent: 0 };
  private readonly prng: Prng;

  constructor(
    private readonly sim: Simulator,
    seed: number,
  ) {
    this.prng = new Prng(seed);
  }

  /** Spoofed SYNs at `ratePerS` from random sources in 198.51.100.0/24 and ephemeral ports, towards `target`. */
  synFlood(target: Remote & { tcpPort: number }, fromMs: number, toMs: number, ratePerS: number, options: SynOptions = 'none'): void {
    this.every(fromMs, toMs, ratePerS, () => {
      const from = { address: `198.51.100.${1 + this.prng.intBetween(0, 253)}`, port: this.prng.intBetween(1024, 65535) };
      const opts: wire.TcpOptions = options === 'full' ? { mss: 1460, sackPermitted: true, timestamp: { value: this.prng.nextUint32(), echo: 0 }, windowScale: 7 } : {};
      const seg = { srcPort: this.prng.intBetween(1024, 65535), dstPort: target.tcpPort, seq: this.prng.nextUint32(), ack: 0, flags: SYN, window: 64240, checksum: 0, urgentPointer: 0, options: opts, payload: new Uint8Array(0) };
      this.send(from, target, encodeSegmentDatagram(seg));
    });
  }

  /**
   * Blind segments at one connection: the honest client's UDP address and TCP ports are known (an on-path
   * observer's knowledge, or a guess); the sequence and acknowledgment numbers are not. `kinds` cycle in turn.
   */
  blindInjection(client: Remote, clientPort: number, server: Remote, serverPort: number, fromMs: number, toMs: number, ratePerS: number, kinds: readonly BlindKind[]): void {
    let i = 0;
    this.every(fromMs, toMs, ratePerS, () => {
      const kind = kinds[i++ % kinds.length]!;
      const flags = kind === 'rst' ? RST : kind === 'syn' ? SYN : ACK;
      const payload = kind === 'data' ? new Uint8Array(1 + this.prng.intBetween(0, 99)).fill(0x66) : new Uint8Array(0);
      const seg = { srcPort: clientPort, dstPort: serverPort, seq: this.prng.nextUint32(), ack: this.prng.nextUint32(), flags, window: 65535, checksum: 0, urgentPointer: 0, options: {}, payload };
      this.send(client, server, encodeSegmentDatagram(seg));
    });
  }

  /** The captured datagrams sent again, in order, spread over [fromMs, toMs). */
  replay(captured: ReadonlyArray<{ from: Remote; to: Remote; bytes: Uint8Array }>, fromMs: number, toMs: number): void {
    const step = captured.length > 0 ? (toMs - fromMs) / captured.length : 0;
    captured.forEach((d, i) => this.sim.at(fromMs + i * step, () => this.send(d.from, d.to, d.bytes)));
  }

  /** Random bytes (some shaped like stevens datagrams: the right version and type) from random sources. */
  garbage(target: Remote, fromMs: number, toMs: number, ratePerS: number): void {
    this.every(fromMs, toMs, ratePerS, () => {
      const bytes = new Uint8Array(this.prng.intBetween(0, 1300));
      for (let k = 0; k < bytes.length; k++) bytes[k] = this.prng.intBetween(0, 255);
      if (bytes.length > 2 && this.prng.nextFloat() < 0.5) {
        bytes[0] = 1;
        bytes[1] = this.prng.intBetween(0, 1);
      }
      this.send({ address: `203.0.113.${1 + this.prng.intBetween(0, 253)}`, port: this.prng.intBetween(1, 65535) }, target, bytes);
    });
  }

  private every(fromMs: number, toMs: number, ratePerS: number, fn: () => void): void {
    const gapMs = 1000 / ratePerS;
    // One scheduled event per millisecond carries that millisecond's datagrams (a flood of 20,000/s is 20 per event).
    let due = 0;
    for (let t = fromMs; t < toMs; t++) {
      const start = due;
      due += 1 / gapMs;
      const n = Math.floor(due) - Math.floor(start);
      if (n > 0) this.sim.at(t, () => {
        for (let k = 0; k < n; k++) fn();
      });
    }
  }

  private send(from: Remote, to: Remote, bytes: Uint8Array): void {
    this.stats.datagramsSent++;
    this.stats.bytesSent += bytes.length;
    this.sim.inject(this.sim.nowMs, from, to, bytes);
  }
}
