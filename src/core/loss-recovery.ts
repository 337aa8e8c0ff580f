// Loss detection and recovery on top of the scoreboard: duplicate ACKs and fast retransmit (RFC 5681),
// NewReno partial ACKs without SACK (RFC 6582), SACK-based recovery with pipe and NextSeg (RFC 6675),
// limited transmit (RFC 3042), RACK (RFC 8985 6, rack.ts), tail loss probes (RFC 8985 7, tail-loss-probe.ts),
// and undo of spurious retransmissions detected by timestamps (Eifel, RFC 3522) or D-SACK (RFC 2883, RFC 3708).
import type { ConnectionConfig } from './config.js';
import type { CongestionController } from './congestion/controller.js';
import { Rack } from './rack.js';
import type { SackUpdate, Scoreboard, SentSegment } from './sack-scoreboard.js';
import { seqGe, seqLt } from './seq.js';
import { booleanOf, fieldsOf, fromPlain, numberOf, optionalNumberOf, restoreNumbers, toPlain, type Plain } from './snapshot.js';
import { TailLossProbe } from './tail-loss-probe.js';

/** As Linux names them: Open (all well), Disorder (duplicate ACKs or SACKs, no loss yet), Recovery (fast
 * recovery), Loss (after an RTO). */
export type RecoveryState = 'open' | 'disorder' | 'recovery' | 'loss';

export interface AckInfo {
  ack: number;
  /** The ACK moved SND.UNA. */
  advanced: boolean;
  /** RFC 5681 2's duplicate ACK. */
  duplicate: boolean;
  sack: SackUpdate | undefined;
  /** TSecr of the ACK, when timestamps are in use. */
  tsEcho: number | undefined;
  /** Segments this ACK delivered (cumulatively or by SACK), for RACK. */
  delivered: SentSegment[];
  srttMs: number;
}

export interface RecoveryCounters {
  fastRetransmits: number;
  recoveryEpisodes: number;
  spuriousRetransmits: number;
  dsacksReceived: number;
}

const COUNTER_KEYS = ['fastRetransmits', 'recoveryEpisodes', 'spuriousRetransmits', 'dsacksReceived'] as const;

export type RecoveryConfig = Pick<ConnectionConfig, 'dupThresh' | 'lossDetection' | 'tailLossProbe' | 'tlpDelayedAckAllowanceMs'>;

interface Undo {
  cc: Record<string, number>;
  /** TSval of the first retransmission of the episode: an ACK echoing an older one acknowledges an original. */
  firstRetransmitTsVal: number | undefined;
  retransmissions: number;
  /** Retransmissions of the episode not yet shown unnecessary by a D-SACK. */
  undsacked: number;
}

export class LossRecovery {
  state: RecoveryState = 'open';
  dupAcks = 0;
  /** RFC 6675 RecoveryPoint / RFC 6582 "recover": recovery ends when this is acknowledged. */
  recoveryPoint = 0;
  /** Without SACK, each duplicate ACK means a segment left the network (Linux's "reno SACK" accounting). */
  private renoSackedSegments = 0;
  /** The first retransmission of a recovery episode goes out regardless of cwnd (RFC 6675 4 step 4.3). */
  fastRetransmitNow = false;
  private rescueDone = false;
  private undo: Undo | undefined;
  private undoLingering = false;
  readonly tlp: TailLossProbe;
  /** RACK when configured (and SACK is in use); otherwise RFC 6675's DupThresh rule marks losses. */
  readonly rack: Rack | undefined;
  /** When RACK wants to look again (ms from now), or undefined: the connection arms its reorder timer. */
  reorderWaitMs: number | undefined;
  readonly counters: RecoveryCounters = { fastRetransmits: 0, recoveryEpisodes: 0, spuriousRetransmits: 0, dsacksReceived: 0 };
  private readonly dupThresh: number;

  constructor(
    private readonly board: Scoreboard,
    private readonly cc: CongestionController,
    private readonly sackOk: () => boolean,
    config: RecoveryConfig,
  ) {
    this.dupThresh = config.dupThresh;
    this.rack = config.lossDetection === 'rack' ? new Rack() : undefined;
    this.tlp = new TailLossProbe(config.tailLossProbe, config.tlpDelayedAckAllowanceMs);
  }

  /** RFC 6675 pipe (with Reno accounting of duplicate ACKs when there is no SACK). */
  pipeBytes(mssBytes: number): number {
    const p = this.board.pipeBytes - this.renoSackedSegments * mssBytes;
    return p > 0 ? p : 0;
  }

  /** Everything an ACK tells loss recovery. */
  onAck(nowMs: number, info: AckInfo, mssBytes: number, sndNxt: number): void {
    const sack = this.sackOk();
    // The undo record outlives its episode only until the first ACK without a D-SACK.
    if (this.undoLingering && !info.sack?.dsack) {
      this.undo = undefined;
      this.undoLingering = false;
    }
    if (info.sack?.dsack) this.onDsack();
    if (info.advanced) this.checkSpurious(info);

    // Tail loss probe answered (RFC 8985 7.4): a retransmitted probe that was not D-SACKed repaired a loss.
    if (this.tlp.onAck(info.ack, info.sack?.dsack === true) && this.state === 'open') {
      this.cc.onLoss(nowMs, this.pipeBytes(mssBytes));
      this.cc.onRecoveryEnd(nowMs);
    }

    if (info.duplicate || (sack && info.sack !== undefined && info.sack.newlySackedBytes > 0 && !info.advanced)) {
      this.dupAcks++;
      if (!sack && (this.state === 'open' || this.state === 'disorder' || this.state === 'recovery')) {
        this.renoSackedSegments = Math.min(this.renoSackedSegments + 1, Math.max(0, this.board.count - 1));
      }
    }
    if (sack && this.rack !== undefined) {
      for (const seg of info.delivered) this.rack.onDelivered(seg, nowMs, info.tsEcho);
      if (info.sack?.dsack) this.rack.onDsack();
      this.reorderWaitMs = this.rack.detect(this.board, nowMs, this.inEpisode, this.dupThresh, info.srttMs);
    } else if (sack) {
      this.board.markLostBySack(this.dupThresh, mssBytes);
    }

    switch (this.state) {
      case 'open':
      case 'disorder':
        if (info.advanced) {
          this.dupAcks = 0;
          this.renoSackedSegments = 0;
        }
        if (this.shouldEnterRecovery(sack)) this.enterRecovery(nowMs, sndNxt);
        else this.state = this.dupAcks > 0 || (sack && this.board.sackedBytes > 0) ? 'disorder' : 'open';
        break;
      case 'recovery':
        if (seqGe(info.ack, this.recoveryPoint)) {
          this.finish(nowMs, true);
        } else if (info.advanced) {
          // A partial ACK: the next hole is lost too (RFC 6582 3.2 step 4, RFC 6675 via the scoreboard).
          if (!sack) {
            this.renoSackedSegments = 0;
            this.dupAcks = 0;
            if (this.board.markFirstLost()) this.fastRetransmitNow = true;
          }
        }
        break;
      case 'loss':
        if (seqGe(info.ack, this.recoveryPoint)) this.finish(nowMs, false);
        else if (!sack && info.advanced) this.renoSackedSegments = 0;
        break;
    }
  }

  /** RACK's reordering timer fired (RFC 8985 6.3): look again, maybe enter recovery. */
  onReorderTimeout(nowMs: number, sndNxt: number, srttMs: number): void {
    if (this.rack === undefined) return;
    this.reorderWaitMs = this.rack.detect(this.board, nowMs, this.inEpisode, this.dupThresh, srttMs);
    if ((this.state === 'open' || this.state === 'disorder') && this.board.lostBytes > 0) this.enterRecovery(nowMs, sndNxt);
  }

  get inEpisode(): boolean {
    return this.state === 'recovery' || this.state === 'loss';
  }

  private shouldEnterRecovery(sack: boolean): boolean {
    if (this.board.isEmpty) return false;
    if (this.dupAcks >= this.dupThresh) {
      if (!sack) this.board.markFirstLost();
      return true;
    }
    // RFC 6675 5 (and its IsLost(HighACK + 1) trigger): the first hole is presumed lost.
    return sack && this.board.lostBytes > 0;
  }

  private enterRecovery(nowMs: number, sndNxt: number): void {
    this.undo = { cc: this.cc.save(), firstRetransmitTsVal: undefined, retransmissions: 0, undsacked: 0 };
    this.undoLingering = false;
    this.state = 'recovery';
    this.recoveryPoint = sndNxt;
    this.rescueDone = false;
    this.counters.fastRetransmits++;
    this.counters.recoveryEpisodes++;
    this.cc.onLoss(nowMs, this.flightBytes());
    this.fastRetransmitNow = this.board.nextLost() !== undefined;
  }

  /** RFC 6298 5.4-5.6 with RFC 6675 5.1: every unSACKed segment is presumed lost and resent under cwnd. */
  onRto(nowMs: number, sndNxt: number): void {
    // A SACKed head means the receiver reneged (RFC 2018 8): its SACK marks cannot be trusted.
    if (this.board.first()?.sacked) this.board.clearSacks();
    if (this.state !== 'loss' || this.undo === undefined) {
      this.undo = { cc: this.cc.save(), firstRetransmitTsVal: undefined, retransmissions: 0, undsacked: 0 };
      this.undoLingering = false;
    }
    this.cc.onRto(nowMs, this.flightBytes());
    this.board.markAllLost();
    this.state = 'loss';
    this.recoveryPoint = sndNxt;
    this.dupAcks = 0;
    this.renoSackedSegments = 0;
    this.fastRetransmitNow = false;
    this.tlp.onRto();
  }

  /** RFC 6675 NextSeg: what to retransmit now, if anything (new data, rule 2, is the caller's). */
  nextRetransmission(pipeBytes: number, cwndBytes: number, newDataAvailable: boolean, mssBytes: number): SentSegment | undefined {
    // RFC 6675 5 (C): send while cwnd - pipe >= 1 SMSS (the first retransmission of an episode regardless).
    const room = cwndBytes - pipeBytes >= mssBytes;
    const lost = this.board.nextLost();
    if (lost !== undefined) return this.fastRetransmitNow || room ? lost : undefined;
    if (this.state !== 'recovery' || !this.sackOk() || !room) return undefined;
    if (newDataAvailable) return undefined;
    // Rule 3: an unSACKed segment below the highest SACK that was not retransmitted.
    const below = this.board.nextUnsackedBelowHighSack();
    if (below !== undefined) return below;
    // Rule 4: one rescue retransmission per episode, of the highest unSACKed segment.
    if (!this.rescueDone) {
      const rescue = this.board.highestUnsacked();
      if (rescue !== undefined && !rescue.retransmitted) {
        this.rescueDone = true;
        return rescue;
      }
    }
    return undefined;
  }

  /** The connection retransmitted `seg` with TSval `tsVal`. */
  onRetransmitted(tsVal: number | undefined): void {
    this.fastRetransmitNow = false;
    if (this.undo !== undefined) {
      if (this.undo.firstRetransmitTsVal === undefined) this.undo.firstRetransmitTsVal = tsVal;
      this.undo.retransmissions++;
      this.undo.undsacked++;
    }
  }

  /** May a tail loss probe be scheduled now (RFC 8985 7.2: open state, nothing probed yet)? */
  canProbe(): boolean {
    return this.state === 'open' && this.tlp.highSeq === undefined;
  }

  /**
   * RFC 5681's FlightSize (SACKed data included, RFC 6675 4.2), without what limited transmit sent beyond cwnd
   * (RFC 3042 2: those segments MUST NOT count when ssthresh is computed).
   */
  private flightBytes(): number {
    return Math.min(this.board.outstandingBytes, this.cc.cwndBytes);
  }

  private finish(nowMs: number, fast: boolean): void {
    if (fast) this.cc.onRecoveryEnd(nowMs);
    this.state = 'open';
    this.dupAcks = 0;
    this.renoSackedSegments = 0;
    this.fastRetransmitNow = false;
    this.board.endEpisode();
    // D-SACKs for this episode's retransmissions may arrive with the ACKs just after it ends.
    this.undoLingering = this.undo !== undefined;
  }

  /** Eifel (RFC 3522): the ACK echoes a timestamp older than the first retransmission: it was for the original. */
  private checkSpurious(info: AckInfo): void {
    const u = this.undo;
    if (u === undefined || (this.state !== 'recovery' && this.state !== 'loss')) return;
    if (info.tsEcho === undefined || info.tsEcho === 0 || u.firstRetransmitTsVal === undefined) return;
    if (seqLt(info.tsEcho, u.firstRetransmitTsVal)) this.revert(u);
  }

  /** RFC 3708: when every retransmission of the episode was reported as a duplicate, the episode was spurious. */
  private onDsack(): void {
    this.counters.dsacksReceived++;
    this.counters.spuriousRetransmits++;
    const u = this.undo;
    if (u === undefined || u.undsacked <= 0) return;
    u.undsacked--;
    if (u.undsacked === 0 && u.retransmissions > 0) this.revert(u);
  }

  /** Undo: restore the window from before the episode and forget the loss marks. */
  private revert(u: Undo): void {
    // With SACK each unnecessary retransmission is counted by its own D-SACK; without, Eifel counts them.
    if (!this.sackOk()) this.counters.spuriousRetransmits += u.retransmissions;
    const now = this.cc.save();
    // Never shrink on undo: keep the larger of the current and the saved window.
    if ((u.cc.cwndBytes ?? 0) >= (now.cwndBytes ?? 0)) this.cc.restore(u.cc);
    if (this.state === 'recovery' || this.state === 'loss') {
      this.board.clearLost();
      this.state = 'open';
      this.dupAcks = 0;
      this.renoSackedSegments = 0;
      this.fastRetransmitNow = false;
    }
    this.undo = undefined;
    this.undoLingering = false;
  }

  save(): Plain {
    const u = this.undo;
    return {
      state: this.state,
      dupAcks: this.dupAcks,
      recoveryPoint: this.recoveryPoint,
      renoSackedSegments: this.renoSackedSegments,
      fastRetransmitNow: this.fastRetransmitNow,
      rescueDone: this.rescueDone,
      undo: u === undefined ? null : { cc: toPlain(u.cc), firstRetransmitTsVal: toPlain(u.firstRetransmitTsVal), retransmissions: u.retransmissions, undsacked: u.undsacked },
      undoLingering: this.undoLingering,
      reorderWaitMs: toPlain(this.reorderWaitMs),
      counters: { ...this.counters },
      tlp: this.tlp.save(),
      rack: this.rack === undefined ? null : this.rack.save(),
    };
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'loss recovery');
    this.state = f.state as RecoveryState;
    this.dupAcks = numberOf(f, 'dupAcks');
    this.recoveryPoint = numberOf(f, 'recoveryPoint');
    this.renoSackedSegments = numberOf(f, 'renoSackedSegments');
    this.fastRetransmitNow = booleanOf(f, 'fastRetransmitNow');
    this.rescueDone = booleanOf(f, 'rescueDone');
    if (f.undo === null) this.undo = undefined;
    else {
      const u = fieldsOf(f.undo, 'undo record');
      this.undo = { cc: fromPlain(u.cc ?? null) as Record<string, number>, firstRetransmitTsVal: optionalNumberOf(u, 'firstRetransmitTsVal'), retransmissions: numberOf(u, 'retransmissions'), undsacked: numberOf(u, 'undsacked') };
    }
    this.undoLingering = booleanOf(f, 'undoLingering');
    this.reorderWaitMs = optionalNumberOf(f, 'reorderWaitMs');
    restoreNumbers(this.counters, fieldsOf(f.counters, 'recovery counters'), COUNTER_KEYS);
    this.tlp.restore(f.tlp ?? null);
    if (this.rack !== undefined) this.rack.restore(f.rack ?? null);
  }
}
