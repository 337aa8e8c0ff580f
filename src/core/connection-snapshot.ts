// A connection as plain data and back (Endpoint.snapshot/restore). The TCB's own variables are listed here by
// name; every mechanism saves and restores its own state, so a field added to one is saved where it is declared.
import type { ConnectionConfig } from './config.js';
import { Connection } from './connection.js';
import type { ConnectionHost } from './connection-host.js';
import type { ConnectionError } from './errors.js';
import type { Remote } from './events.js';
import { booleanOf, bytesOf, fieldsOf, fromPlain, numberOf, optionalNumberOf, SnapshotError, toPlain, type Plain } from './snapshot.js';
import type { TcpState } from './state.js';

/** The TCB's numbers and flags (everything else belongs to a mechanism, or is fixed at construction). */
const TCB_NUMBERS = ['sndUna', 'sndNxt', 'sndWnd', 'sndWl1', 'sndWl2', 'maxSndWnd', 'sndBufSeq', 'irs', 'peerMss', 'sndShift', 'nowMs', 'lastReceiveMs', 'lastProgressMs'] as const;
const TCB_FLAGS = ['finQueued', 'peerFinDone', 'wscaleOk', 'sackOk', 'appClosed', 'writeBlocked', 'readablePending', 'noDelay', 'announced', 'closedEmitted', 'finEmitted'] as const;

export function saveConnection(c: Connection): Plain {
  const tcb: { [key: string]: Plain } = {};
  for (const k of TCB_NUMBERS) tcb[k] = c[k];
  for (const k of TCB_FLAGS) tcb[k] = c[k];
  tcb.peerFinSeq = toPlain(c.peerFinSeq);
  return {
    // What the constructor takes.
    id: c.id,
    remote: toPlain(c.remote),
    localPort: c.localPort,
    remotePort: c.remotePort,
    config: toPlain(c.config),
    iss: c.iss,
    tsOffset: c.ts.offset,
    active: c.active,
    state: c.state,
    error: toPlain(c.error),
    tcb,
    send: toPlain(c.sendBuffer.snapshotBytes()),
    receive: c.receiveBuffer.snapshot(),
    timers: toPlain(c.timers.deadlines),
    handshake: c.handshake.save(),
    window: c.window.save(),
    delack: c.delack.save(),
    ts: c.ts.save(),
    rtt: c.rtt.save(),
    cc: toPlain(c.cc.save()),
    board: c.board.save(),
    recovery: c.recovery.save(),
    retransmitTimer: c.retransmitTimer.save(),
    persist: c.persist.save(),
    keepalive: c.keepalive.save(),
    challengeAcks: c.challengeAcks.save(),
    invalidAcks: c.invalidAcks.save(),
    datagrams: c.datagrams.save(),
    output: c.output.save(),
    counters: c.counters.save(),
  };
}

export function restoreConnection(host: ConnectionHost, plain: Plain): Connection {
  const s = fieldsOf(plain, 'connection');
  const config = fromPlain(s.config ?? null) as ConnectionConfig;
  const remote = fromPlain(s.remote ?? null) as Remote;
  const c = new Connection(host, numberOf(s, 'id'), remote, numberOf(s, 'localPort'), numberOf(s, 'remotePort'), config, numberOf(s, 'iss'), numberOf(s, 'tsOffset'), booleanOf(s, 'active'));
  if (typeof s.state !== 'string') throw new SnapshotError('snapshot: connection state is not a string');
  c.state = s.state as TcpState;
  c.error = (fromPlain(s.error ?? null) ?? undefined) as ConnectionError | undefined;
  const tcb = fieldsOf(s.tcb, 'connection TCB');
  for (const k of TCB_NUMBERS) c[k] = numberOf(tcb, k);
  for (const k of TCB_FLAGS) c[k] = booleanOf(tcb, k);
  c.peerFinSeq = optionalNumberOf(tcb, 'peerFinSeq');
  const send = bytesOf(s.send, 'send buffer');
  if (send.length > 0) c.sendBuffer.write(send);
  c.receiveBuffer.restore(s.receive ?? null);
  const deadlines = fromPlain(s.timers ?? null);
  if (!(deadlines instanceof Float64Array) || deadlines.length !== c.timers.deadlines.length) throw new SnapshotError('snapshot: connection timers are not a deadline table');
  c.timers.deadlines.set(deadlines);
  c.handshake.restore(s.handshake ?? null);
  c.window.restore(s.window ?? null);
  c.delack.restore(s.delack ?? null);
  c.ts.restore(s.ts ?? null);
  c.rtt.restore(s.rtt ?? null);
  c.cc.restore(fromPlain(s.cc ?? null) as Record<string, number>);
  c.board.restore(s.board ?? null);
  c.recovery.restore(s.recovery ?? null);
  c.retransmitTimer.restore(s.retransmitTimer ?? null);
  c.persist.restore(s.persist ?? null);
  c.keepalive.restore(s.keepalive ?? null);
  c.challengeAcks.restore(s.challengeAcks ?? null);
  c.invalidAcks.restore(s.invalidAcks ?? null);
  c.datagrams.restore(s.datagrams ?? null);
  c.output.restore(s.output ?? null);
  c.counters.restore(s.counters ?? null);
  return c;
}
