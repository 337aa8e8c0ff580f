// RFC 8985 7: the tail loss probe. When a probe may be scheduled (loss recovery is open and no probe is
// outstanding), the retransmission timer is armed with the probe timeout PTO = 2 * SRTT (plus the peer's
// worst-case delayed ACK when one segment is in flight) if that is sooner than the RTO. When it fires, one probe
// goes out (new data if the window allows, else the last segment again) and the timer is re-armed as the RTO. A
// retransmitted probe that the peer answers without a D-SACK repaired a real loss: the window is reduced.
import type { RttEstimator } from './rtt.js';
import { seqGe } from './seq.js';
import { booleanOf, fieldsOf, numberOf, optionalNumberOf, toPlain, type Plain } from './snapshot.js';

/** RFC 8985 7.2: the PTO is never shorter than this. */
const MIN_PTO_MS = 10;

export class TailLossProbe {
  /** The retransmission timer is armed as a probe timeout. */
  timerIsProbe = false;
  /** The probe timeout fired: a probe is due on the next poll. */
  due = false;
  /** An outstanding probe: the ACK of this sequence number answers it. */
  highSeq: number | undefined;
  /** The outstanding probe resent the last segment (instead of new data). */
  private wasRetransmit = false;
  /** Probes sent. */
  probes = 0;

  constructor(
    private readonly enabled: boolean,
    private readonly delayedAckAllowanceMs: number,
  ) {}

  /**
   * The retransmission timer's timeout: the PTO when a probe may be scheduled (`mayProbe` is asked only when
   * probes are on) and it is sooner than the RTO, otherwise the RTO (and the timer is no probe). Never a probe
   * before an RTT sample.
   */
  timeoutMs(mayProbe: () => boolean, rtt: RttEstimator, segmentsInFlight: number): number {
    const rtoMs = rtt.rtoMs;
    this.timerIsProbe = false;
    if (this.enabled && rtt.hasSample && mayProbe()) {
      let ptoMs = 2 * rtt.srttMs;
      if (segmentsInFlight === 1) ptoMs += this.delayedAckAllowanceMs;
      ptoMs = Math.max(ptoMs, MIN_PTO_MS);
      if (ptoMs < rtoMs) {
        this.timerIsProbe = true;
        return ptoMs;
      }
    }
    return rtoMs;
  }

  /** The timer fired as a probe timeout: send a probe (RFC 8985 7.3), then wait for the RTO. */
  onTimeout(): void {
    this.timerIsProbe = false;
    this.due = true;
  }

  /** A probe went out; the ACK of `highSeq` answers it. `retransmit`: it resent the last segment. */
  onProbeSent(highSeq: number, retransmit: boolean): void {
    this.probes++;
    this.highSeq = highSeq;
    this.wasRetransmit = retransmit;
  }

  /**
   * RFC 8985 7.4: an ACK arrived. Returns true when it answered a retransmitted probe without a D-SACK (the probe
   * repaired a loss, so congestion control must respond).
   */
  onAck(ack: number, dsack: boolean): boolean {
    if (this.highSeq === undefined || !(seqGe(ack, this.highSeq) || dsack)) return false;
    const repaired = this.wasRetransmit && !dsack;
    this.highSeq = undefined;
    return repaired;
  }

  /** An RTO fired: no probe is outstanding any more. */
  onRto(): void {
    this.highSeq = undefined;
  }

  save(): Plain {
    return { timerIsProbe: this.timerIsProbe, due: this.due, highSeq: toPlain(this.highSeq), wasRetransmit: this.wasRetransmit, probes: this.probes };
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'tail loss probe');
    this.timerIsProbe = booleanOf(f, 'timerIsProbe');
    this.due = booleanOf(f, 'due');
    this.highSeq = optionalNumberOf(f, 'highSeq');
    this.wasRetransmit = booleanOf(f, 'wasRetransmit');
    this.probes = numberOf(f, 'probes');
  }
}
