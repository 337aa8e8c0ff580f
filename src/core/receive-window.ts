// The receive window we advertise: RFC 9293 3.8.6.2.2's receiver-side silly window avoidance (the right edge
// moves only by min(buffer / 2, MSS) or more), never shrinking an edge already offered (RFC 9293 3.8.6), window
// scaling (RFC 7323 2), and when a window update is worth a segment of its own (RFC 1122 4.2.3.3). It also keeps
// what the last segment sent told the peer: its ACK (Last.ACK.sent, RFC 7323 4.3) and its window.
import { seqAdd, seqDiff, seqMax } from './seq.js';
import { fieldsOf, numberOf, type Plain } from './snapshot.js';

/** RFC 7323 2.3: the largest shift count. */
export const MAX_WINDOW_SHIFT = 14;
export const TCP_MAX_WINDOW_FIELD = 65535;

export class ReceiveWindow {
  /** The shift our SYN offers. */
  readonly offeredShift: number;
  /** The shift in use: ours, once both SYNs carried the option (RFC 7323 2.2). */
  shift = 0;
  /** Right edge of the window last advertised (RCV.NXT + RCV.WND when it was sent). */
  rightEdge = 0;
  /** Last.ACK.sent. */
  lastAckSent = 0;
  /** The window (bytes, scaled) of the last segment sent, for the trace. */
  lastWindowSentBytes = 0;

  constructor(
    private readonly bufferBytes: number,
    windowScaling: boolean,
  ) {
    this.offeredShift = windowScaling ? windowShiftFor(bufferBytes) : 0;
  }

  /** The peer's SYN told us RCV.NXT (nothing advertised yet), and whether scaling is on. */
  onSynchronized(rcvNxt: number, scaling: boolean): void {
    this.rightEdge = rcvNxt;
    this.shift = scaling ? this.offeredShift : 0;
  }

  /** Bytes beyond RCV.NXT the peer may send by what we offered. */
  offeredBytes(rcvNxt: number): number {
    return Math.max(0, seqDiff(this.rightEdge, rcvNxt));
  }

  /** The window field to send now, given the buffer's free space and the segment size. */
  fieldToAdvertise(freeBytes: number, rcvNxt: number, mssBytes: number): number {
    const scale = this.shift;
    const maxWindow = TCP_MAX_WINDOW_FIELD << scale;
    const offered = this.offeredBytes(rcvNxt);
    let window = Math.min(freeBytes, maxWindow);
    const threshold = Math.min(this.bufferBytes / 2, mssBytes);
    if (window - offered < threshold && window > offered) window = offered;
    if (window < offered) window = offered; // never shrink (RFC 9293 3.8.6)
    let field = Math.ceil(window / (1 << scale));
    if (field > TCP_MAX_WINDOW_FIELD) field = TCP_MAX_WINDOW_FIELD;
    // Rounding up may not offer more than the buffer holds unless it keeps an edge already offered.
    if (field << scale > Math.max(freeBytes, offered)) field = Math.floor(Math.max(freeBytes, offered) / (1 << scale));
    return field;
  }

  /** A segment left acknowledging `ack` with this window field. */
  onAdvertised(ack: number, field: number): void {
    this.rightEdge = seqMax(this.rightEdge, seqAdd(ack, field << this.shift));
    this.lastAckSent = ack;
    this.lastWindowSentBytes = field << this.shift;
  }

  /** A SYN or SYN-ACK left with this (unscaled, RFC 7323 2.2) window. */
  onSynSent(rcvNxt: number, windowBytes: number): void {
    this.rightEdge = seqAdd(rcvNxt, windowBytes);
    this.lastAckSent = rcvNxt;
  }

  /** The peer's FIN took a sequence number: the edge stays at or beyond RCV.NXT. */
  onFin(rcvNxt: number): void {
    this.rightEdge = seqMax(this.rightEdge, rcvNxt);
  }

  /** Would an ACK now open the window by enough to be worth a segment (RFC 1122 4.2.3.3)? */
  updateWorthSending(freeBytes: number, rcvNxt: number, mssBytes: number): boolean {
    const possible = Math.min(freeBytes, TCP_MAX_WINDOW_FIELD << this.shift);
    const threshold = Math.min(this.bufferBytes / 2, 2 * mssBytes);
    return possible - this.offeredBytes(rcvNxt) >= threshold;
  }

  save(): Plain {
    return { shift: this.shift, rightEdge: this.rightEdge, lastAckSent: this.lastAckSent, lastWindowSentBytes: this.lastWindowSentBytes };
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'receive window');
    this.shift = numberOf(f, 'shift');
    this.rightEdge = numberOf(f, 'rightEdge');
    this.lastAckSent = numberOf(f, 'lastAckSent');
    this.lastWindowSentBytes = numberOf(f, 'lastWindowSentBytes');
  }
}

/** The smallest window-scale shift that lets the whole buffer be offered (RFC 7323 2.3). */
export function windowShiftFor(bufferBytes: number): number {
  let shift = 0;
  while (shift < MAX_WINDOW_SHIFT && bufferBytes >> shift > TCP_MAX_WINDOW_FIELD) shift++;
  return shift;
}
