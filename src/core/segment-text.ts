// RFC 9293 3.10.7.4's sixth step, the segment text: in-window data goes to the receive buffer (reassembly of
// out-of-order ranges, receive-buffer.ts), data we already held is reported back as a D-SACK (RFC 2883 4), the
// application hears 'readable', and out-of-order data or data filling a hole is acknowledged at once (RFC 5681
// 4.2); in-order data leaves the ACK to the delayed ACK rule.
import type { Connection } from './connection.js';
import { seqAdd, seqLt } from './seq.js';

export class SegmentText {
  constructor(private readonly c: Connection) {}

  /** `payload` starts at sequence number `dataSeq` (the connection checked it may be received). */
  receive(nowMs: number, dataSeq: number, payload: Uint8Array): void {
    const c = this.c;
    const rb = c.receiveBuffer;
    const windowBytes = c.window.offeredBytes(rb.rcvNxt);
    const before = rb.rcvNxt;
    if (c.sackOk) {
      const end = seqAdd(dataSeq, payload.length);
      if (seqLt(dataSeq, rb.rcvNxt)) c.delack.pendingDsack = { left: dataSeq, right: seqLt(end, rb.rcvNxt) ? end : rb.rcvNxt };
      else if (rb.holds(dataSeq, end)) c.delack.pendingDsack = { left: dataSeq, right: end };
    }
    const { delivered, result } = rb.receive(dataSeq, payload, windowBytes);
    if (result !== 'ok') c.countDrop(result);
    if (delivered > 0) {
      c.counters.bytesReceived += delivered;
      if (!c.readablePending) {
        c.readablePending = true;
        c.host.emit({ type: 'readable', connection: c });
      }
    }
    if (dataSeq !== before || rb.hasOutOfOrder || result !== 'ok' || delivered > payload.length) c.delack.ackNow = true;
    else c.delack.onInOrderData(nowMs, payload.length, c.mssBytes);
  }
}
