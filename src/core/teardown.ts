// Closing a connection (RFC 9293 3.6): the application's half-close, close and abort (3.10.4, 3.10.5), our FIN
// acknowledged, the peer's FIN consumed (3.10.7.4, eighth step), a reset received, TIME-WAIT's 2 MSL
// (3.10.8) and the limit on an orphaned FIN-WAIT-2 (as Linux's tcp_fin_timeout).
import type { Connection } from './connection.js';
import { connectionError } from './errors.js';
import { seqAdd } from './seq.js';
import { Timer } from './timers.js';

export class Teardown {
  constructor(private readonly c: Connection) {}

  /** Half-close: a FIN follows the data already written. */
  shutdown(): void {
    const c = this.c;
    if (c.finQueued || c.state === 'CLOSED') return;
    switch (c.state) {
      case 'SYN-SENT':
        // Nothing was sent yet that needs a FIN; the FIN goes after the handshake.
        c.finQueued = true;
        return;
      case 'SYN-RECEIVED':
      case 'ESTABLISHED':
        c.finQueued = true;
        if (c.state === 'ESTABLISHED') c.setState('FIN-WAIT-1');
        break;
      case 'CLOSE-WAIT':
        c.finQueued = true;
        c.setState('LAST-ACK');
        break;
      default:
        return;
    }
    c.host.wantsTransmit(c);
  }

  /** Full close: no more reads or writes. Unread data means the peer's data is lost, so RST (RFC 2525 2.17). */
  close(): void {
    const c = this.c;
    if (c.state === 'CLOSED' || c.appClosed) return;
    if (c.receiveBuffer.readableBytes > 0) {
      this.abort();
      return;
    }
    c.appClosed = true;
    if (c.state === 'SYN-SENT') {
      c.enterClosed(undefined);
      return;
    }
    // Already half-closed and waiting for the peer's FIN: an orphan does not wait forever.
    if (c.state === 'FIN-WAIT-2') c.timers.set(Timer.Linger, c.nowMs + this.finWait2TimeoutMs());
    this.shutdown();
    c.host.timersChanged(c);
  }

  /** Abort: RST to the peer, everything discarded. */
  abort(): void {
    const c = this.c;
    if (c.state === 'CLOSED') return;
    if (c.state !== 'SYN-SENT' && c.state !== 'TIME-WAIT') c.output.sendReset(c.sndNxt, c.receiveBuffer.rcvNxt, true);
    c.enterClosed(undefined);
  }

  /** SND.UNA moved: if it covers our FIN, FIN-WAIT-1 goes on to FIN-WAIT-2, CLOSING to TIME-WAIT, LAST-ACK ends. */
  onAcked(nowMs: number): void {
    const c = this.c;
    if (!c.finQueued || c.sndUna !== seqAdd(c.finSeq(), 1)) return;
    switch (c.state) {
      case 'FIN-WAIT-1':
        c.setState('FIN-WAIT-2', nowMs);
        if (c.appClosed) c.timers.set(Timer.Linger, nowMs + this.finWait2TimeoutMs());
        break;
      case 'CLOSING':
        this.enterTimeWait(nowMs);
        break;
      case 'LAST-ACK':
        c.enterClosed(undefined);
        break;
    }
  }

  /** The peer's FIN is next in sequence: consume it. */
  onPeerFin(nowMs: number): void {
    const c = this.c;
    const rb = c.receiveBuffer;
    c.peerFinDone = true;
    rb.rcvNxt = seqAdd(rb.rcvNxt, 1);
    c.window.onFin(rb.rcvNxt);
    c.delack.ackNow = true;
    c.timers.clear(Timer.DelayedAck);
    // 'end' comes before the 'closed' that TIME-WAIT may emit.
    if (!c.finEmitted && !c.appClosed) {
      c.finEmitted = true;
      c.host.emit({ type: 'end', connection: c });
    }
    switch (c.state) {
      case 'SYN-RECEIVED':
      case 'ESTABLISHED':
        c.setState('CLOSE-WAIT', nowMs);
        break;
      case 'FIN-WAIT-1':
        if (c.sndUna === seqAdd(c.finSeq(), 1)) this.enterTimeWait(nowMs);
        else c.setState('CLOSING', nowMs);
        break;
      case 'FIN-WAIT-2':
        this.enterTimeWait(nowMs);
        break;
    }
  }

  /** An acceptable RST arrived. */
  onReset(): void {
    const c = this.c;
    switch (c.state) {
      case 'SYN-RECEIVED':
        // A passive open goes back to LISTEN silently; an active one was refused (RFC 9293 3.10.7.4).
        c.enterClosed(c.active ? connectionError('ECONNREFUSED', 'connection refused by peer') : undefined);
        return;
      case 'ESTABLISHED':
      case 'FIN-WAIT-1':
      case 'FIN-WAIT-2':
      case 'CLOSE-WAIT':
        c.enterClosed(c.appClosed ? undefined : connectionError('ECONNRESET', 'connection reset by peer'));
        return;
      default:
        // CLOSING, LAST-ACK, TIME-WAIT: the application is done with it already.
        c.enterClosed(undefined);
    }
  }

  /** TIME-WAIT: the buffers go, the connection lingers 2 MSL to answer a retransmitted FIN. */
  private enterTimeWait(nowMs: number): void {
    const c = this.c;
    c.setState('TIME-WAIT', nowMs);
    c.sendBuffer.release();
    c.receiveBuffer.release();
    c.timers.clearAll();
    c.timers.set(Timer.Linger, nowMs + 2 * c.config.mslMs);
    c.emitClosed(undefined);
  }

  private finWait2TimeoutMs(): number {
    return Math.max(2 * this.c.config.mslMs, 1000);
  }
}
