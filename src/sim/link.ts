// One direction of a path between two hosts: the pipeline a datagram goes through when it enters the link, its
// own random stream, its statistics. In order: too big? outage? partition? random loss? burst loss? room in the
// rate limiter's queue? Then delay (base, jitter, reordering) and, per delivered copy, duplication and damage.
// Every datagram entering is reported 'send', then each copy 'deliver' or the datagram 'drop' with a reason.
import type { Remote } from '../core/index.js';
import { Prng } from '../util/prng.js';
import { flipBit, truncate } from './damage.js';
import { overtakeTime, sampleJitter } from './delay.js';
import { checkLinkConfig, type LinkConfig, type TimeWindow } from './link-config.js';
import { GilbertElliottChannel, inWindows } from './loss.js';
import { RateQueue } from './queue.js';
import type { SimHost } from './host.js';

export interface LinkStats {
  /** Datagrams that entered the link. */
  sent: number;
  /** Copies handed to the receiving node (duplicates included). */
  delivered: number;
  /** Extra copies made. */
  duplicated: number;
  /** Copies delivered with a flipped bit. */
  corrupted: number;
  /** Copies delivered cut short. */
  truncated: number;
  /** Datagrams made to overtake their predecessor by reorderRate. */
  reordered: number;
  /** Drops by reason: too-big, outage, partition, loss, burst-loss, queue-full (no-route on unrouted links). */
  dropped: Record<string, number>;
  bytesDelivered: number;
  /** Most bytes the rate limiter's queue held at once. */
  maxQueueBytes: number;
}

export interface SimLink {
  /** 'a->b' for hosts named a and b. */
  readonly name: string;
  readonly from: SimHost;
  readonly to: SimHost;
  /** The parameters in force. Assigning checks the value and restarts its schedule from now. */
  config: LinkConfig;
  readonly stats: LinkStats;
}

/** Damage flags a delivered copy carries. */
export const COPY_DUPLICATE = 1;
export const COPY_CORRUPTED = 2;
export const COPY_TRUNCATED = 4;

export type PacketEventKind = 'send' | 'deliver' | 'drop';

/**
 * One datagram entering a link ('send'), one copy handed to the receiver ('deliver': `bytes` as delivered, so
 * damaged when corrupted or truncated), or a datagram dropped ('drop', with the reason). `from` and `to` are the
 * UDP addresses of sender and receiver. `bytes` is the simulator's own array (the sender's on 'send' and 'drop'):
 * read it, copy it if it must outlive the call, never write to it.
 */
export interface PacketEvent {
  kind: PacketEventKind;
  atMs: number;
  link: SimLink;
  from: Remote;
  to: Remote;
  bytes: Uint8Array;
  reason?: string;
  /** On 'deliver': this copy is the extra one duplication made. */
  duplicate?: boolean;
  /** On 'deliver': this copy had a bit flipped. */
  corrupted?: boolean;
  /** On 'deliver': this copy was cut short. */
  truncated?: boolean;
}

/** What a link needs from the simulator that owns it. */
export interface LinkWorld {
  /** Hand a copy to the receiving host at atMs. */
  scheduleDelivery(atMs: number, link: Link, from: Remote, to: Remote, bytes: Uint8Array, flags: number): void;
  /** Run link.applyScheduled(index, generation) at atMs. */
  scheduleChange(atMs: number, link: Link, index: number, generation: number): void;
  /** The packet hook, when one is set. */
  readonly onPacket: ((ev: PacketEvent) => void) | undefined;
  readonly nowMs: number;
}

/** A 32-bit seed for a link from the simulator's seed and the link's name (FNV-1a, then murmur3's finalizer). */
export function linkSeed(simSeed: number, name: string): number {
  let h = 0x811c9dc5 ^ (simSeed | 0);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (simSeed >>> 16) ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

export class Link implements SimLink {
  readonly stats: LinkStats = {
    sent: 0,
    delivered: 0,
    duplicated: 0,
    corrupted: 0,
    truncated: 0,
    reordered: 0,
    dropped: {},
    bytesDelivered: 0,
    maxQueueBytes: 0,
  };
  private cfg: LinkConfig;
  private readonly prng: Prng;
  private readonly ge = new GilbertElliottChannel();
  private readonly queue = new RateQueue();
  /** Delivery time of the last copy launched: what an overtaking datagram overtakes, what preserveOrder keeps. */
  private lastAtMs = -Infinity;
  private scheduleGeneration = 0;

  constructor(
    private readonly world: LinkWorld,
    readonly name: string,
    readonly from: SimHost,
    readonly to: SimHost,
    config: LinkConfig,
    seed: number,
    /** Partition windows shared by both directions between the same two hosts. */
    readonly partitions: TimeWindow[],
    nowMs: number,
  ) {
    this.prng = new Prng(seed);
    this.cfg = checkLinkConfig(config, name);
    this.startSchedule(nowMs);
  }

  get config(): LinkConfig {
    return this.cfg;
  }

  set config(c: LinkConfig) {
    this.cfg = checkLinkConfig(c, this.name);
    this.startSchedule(this.world.nowMs);
  }

  /** The link's random stream state (for snapshots). */
  randomState(): number[] {
    return this.prng.getState();
  }

  private startSchedule(nowMs: number): void {
    const gen = ++this.scheduleGeneration;
    const s = this.cfg.schedule;
    if (s === undefined) return;
    // Entries in time order (stable for equal times); those already due apply now, in order.
    const order = s.map((_, i) => i).sort((a, b) => s[a]!.atMs - s[b]!.atMs || a - b);
    for (const i of order) {
      const e = s[i]!;
      if (e.atMs <= nowMs) this.cfg = { ...this.cfg, ...e.set };
      else this.world.scheduleChange(e.atMs, this, i, gen);
    }
  }

  /** A schedule entry's time has come (ignored when the config was replaced since). */
  applyScheduled(index: number, generation: number): void {
    if (generation !== this.scheduleGeneration) return;
    const e = this.cfg.schedule?.[index];
    if (e !== undefined) this.cfg = { ...this.cfg, ...e.set };
  }

  /** A datagram enters the link at nowMs. */
  send(nowMs: number, from: Remote, to: Remote, bytes: Uint8Array): void {
    const c = this.cfg;
    const world = this.world;
    this.stats.sent++;
    if (world.onPacket !== undefined) world.onPacket({ kind: 'send', atMs: nowMs, link: this, from, to, bytes });
    if (c.maxDatagramBytes !== undefined && bytes.length > c.maxDatagramBytes) return this.drop(from, to, bytes, 'too-big');
    if (c.outages !== undefined && inWindows(c.outages, nowMs)) return this.drop(from, to, bytes, 'outage');
    if (this.partitions.length > 0 && inWindows(this.partitions, nowMs)) return this.drop(from, to, bytes, 'partition');
    const prng = this.prng;
    if (c.lossRate && prng.nextFloat() < c.lossRate) return this.drop(from, to, bytes, 'loss');
    if (c.gilbertElliott !== undefined && this.ge.lose(prng, c.gilbertElliott)) return this.drop(from, to, bytes, 'burst-loss');
    let departMs = nowMs;
    if (c.rateBitsPerS !== undefined) {
      departMs = this.queue.offer(nowMs, bytes.length, c.rateBitsPerS, c.queueBytes, c.queuePackets);
      if (departMs < 0) return this.drop(from, to, bytes, 'queue-full');
      if (this.queue.bytes > this.stats.maxQueueBytes) this.stats.maxQueueBytes = this.queue.bytes;
    }
    this.launch(c, nowMs, departMs, from, to, bytes, 0);
    if (c.duplicateRate && prng.nextFloat() < c.duplicateRate) {
      this.stats.duplicated++;
      this.launch(c, nowMs, departMs, from, to, bytes.slice(), COPY_DUPLICATE);
    }
  }

  /** One copy leaves the queue at departMs: propagation, jitter, reordering, damage. */
  private launch(c: LinkConfig, nowMs: number, departMs: number, from: Remote, to: Remote, bytes: Uint8Array, flags: number): void {
    const prng = this.prng;
    let at = departMs + c.delayMs;
    if (c.jitter !== undefined) {
      at += sampleJitter(prng, c.jitter);
      if (at < nowMs) at = nowMs;
    }
    let overtook = false;
    if (c.reorderRate && prng.nextFloat() < c.reorderRate) {
      const t = overtakeTime(nowMs, at, this.lastAtMs);
      if (t >= 0) {
        at = t;
        overtook = true;
        this.stats.reordered++;
      }
    }
    if (!overtook && c.preserveOrder && at < this.lastAtMs) at = this.lastAtMs;
    this.lastAtMs = at;
    if (c.corruptRate && bytes.length > 0 && prng.nextFloat() < c.corruptRate) {
      bytes = flipBit(prng, bytes);
      flags |= COPY_CORRUPTED;
      this.stats.corrupted++;
    }
    if (c.truncateRate && bytes.length > 0 && prng.nextFloat() < c.truncateRate) {
      bytes = truncate(prng, bytes);
      flags |= COPY_TRUNCATED;
      this.stats.truncated++;
    }
    this.world.scheduleDelivery(at, this, from, to, bytes, flags);
  }

  /** A datagram enters and is refused at once (the simulator's unrouted datagrams). */
  refuse(nowMs: number, from: Remote, to: Remote, bytes: Uint8Array, reason: string): void {
    this.stats.sent++;
    const hook = this.world.onPacket;
    if (hook !== undefined) hook({ kind: 'send', atMs: nowMs, link: this, from, to, bytes });
    this.drop(from, to, bytes, reason);
  }

  /** Counts a drop by reason (and reports it). */
  private drop(from: Remote, to: Remote, bytes: Uint8Array, reason: string): void {
    const d = this.stats.dropped;
    d[reason] = (d[reason] ?? 0) + 1;
    const hook = this.world.onPacket;
    if (hook !== undefined) hook({ kind: 'drop', atMs: this.world.nowMs, link: this, from, to, bytes, reason });
  }
}
