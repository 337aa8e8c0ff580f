// Which packets crossing the TUN are lost: a rule the TUN driver is given (it draws nothing itself). SeededLoss
// is `stevens tun --loss P --seed S` and the conformance suite's loss: the simulator's loss models
// (src/sim/loss.ts), one seeded PRNG per direction, one draw per packet, so a seed drops the same packets
// (by their order in each direction) every run.
import { Prng } from '../util/prng.js';
import type { GilbertElliott } from '../sim/link-config.js';
import { GilbertElliottChannel } from '../sim/loss.js';

/** Asked once per packet, in order; true drops it. */
export interface LossRule {
  /** A packet read from the device (sent by the kernel), before anything else looks at it; the capture marks it. */
  dropInbound(packet: Uint8Array): boolean;
  /** A packet about to be written to the device (the kernel's inbound loss); the capture never sees it. */
  dropOutbound(packet: Uint8Array): boolean;
}

/** Independent loss with this probability per packet, or a Gilbert-Elliott chain for bursts. */
export type LossModel = number | GilbertElliott;

export interface SeededLossOptions {
  inbound?: LossModel;
  outbound?: LossModel;
  /** Default 1. */
  seed?: number;
}

/** Independent loss is a chain that never leaves its good state: the same single draw per packet. */
function asChain(model: LossModel | undefined): GilbertElliott | undefined {
  if (model === undefined || model === 0) return undefined;
  return typeof model === 'number' ? { pGoodToBad: 0, pBadToGood: 0, lossInGood: model, lossInBad: model } : model;
}

/** One direction's model, PRNG and chain state. */
class Direction {
  private readonly prng: Prng;
  private readonly channel = new GilbertElliottChannel();

  constructor(
    private readonly model: GilbertElliott | undefined,
    seed: number,
  ) {
    this.prng = new Prng(seed);
  }

  lose(): boolean {
    return this.model !== undefined && this.channel.lose(this.prng, this.model);
  }
}

export class SeededLoss implements LossRule {
  private readonly inbound: Direction;
  private readonly outbound: Direction;

  constructor(opts: SeededLossOptions) {
    const seed = opts.seed ?? 1;
    this.inbound = new Direction(asChain(opts.inbound), seed);
    this.outbound = new Direction(asChain(opts.outbound), seed ^ 0x5bd1e995);
  }

  dropInbound(_packet: Uint8Array): boolean {
    return this.inbound.lose();
  }

  dropOutbound(_packet: Uint8Array): boolean {
    return this.outbound.lose();
  }
}
