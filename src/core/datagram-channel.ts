// The unreliable datagrams of a connection (stevens' own channel beside the stream, never retransmitted): those
// the application queued to send, and those that arrived before the application had the connection.
import { bytesOf, fieldsOf, SnapshotError, toPlain, type Plain } from './snapshot.js';

export class DatagramChannel {
  /** Queued by sendDatagram, sent before the stream's segments. */
  readonly outbound: Uint8Array[] = [];
  /** Arrived before 'accepted' or 'connected' (the handshake's last ACK may come after the first datagram). */
  private readonly early: Uint8Array[] = [];

  constructor(private readonly maxQueued: number) {}

  /** Queue a copy; false when the queue is full. */
  queue(bytes: Uint8Array): boolean {
    if (this.outbound.length >= this.maxQueued) return false;
    this.outbound.push(bytes.slice());
    return true;
  }

  /** Hold a copy until the application has the connection; false when full. */
  hold(payload: Uint8Array): boolean {
    if (this.early.length >= this.maxQueued) return false;
    this.early.push(payload.slice());
    return true;
  }

  /** The held datagrams, oldest first; the channel forgets them. */
  takeEarly(): Uint8Array[] {
    return this.early.splice(0, this.early.length);
  }

  clearOutbound(): void {
    this.outbound.length = 0;
  }

  save(): Plain {
    return { outbound: toPlain(this.outbound), early: toPlain(this.early) };
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'datagram channel');
    for (const [key, list] of [['outbound', this.outbound], ['early', this.early]] as const) {
      const saved = f[key];
      if (!Array.isArray(saved)) throw new SnapshotError(`snapshot: datagram ${key} is not a list`);
      for (const d of saved) list.push(bytesOf(d, `a ${key} datagram`));
    }
  }
}
