// "Buggify" (FoundationDB's name): the lab's drivers, never the protocol, now and then do something legal but
// unusual, so that code paths a well-behaved driver never takes get taken. Each site is turned on or off for a
// whole run by the seed (a run with every perturbation at once tests nothing in particular), and an enabled site
// fires on a fraction of its chances. Each site draws from its own stream, so turning one on moves no other's
// draws, and a run without buggify draws nothing at all.
import { Prng } from '../util/prng.js';

export type BuggifySite =
  /** The simulator fires a host's timer late (never early: handleTimeout may come any time after the deadline). */
  | 'timer-late'
  /** The simulator holds a host's arriving datagrams for a few ms and hands them over in one turn, as a driver reading a full socket buffer does. */
  | 'datagram-burst'
  /** An application reads one byte at a time for a while, one read per turn. */
  | 'one-byte-reads'
  /** An application reacts to an event (readable, writable, connected, end, closed) some ms later. */
  | 'slow-reactions';

export const BUGGIFY_SITES: readonly BuggifySite[] = ['timer-late', 'datagram-burst', 'one-byte-reads', 'slow-reactions'];

/** How often an enabled site fires, per chance it gets. */
const FIRE_RATE: Record<BuggifySite, number> = {
  'timer-late': 0.05,
  'datagram-burst': 0.02,
  'one-byte-reads': 0.03,
  'slow-reactions': 0.05,
};

/** The chance that a site is on in a run. */
const SITE_ON = 0.5;

export class Buggify {
  /** How often each site fired. */
  readonly fired: Record<BuggifySite, number> = { 'timer-late': 0, 'datagram-burst': 0, 'one-byte-reads': 0, 'slow-reactions': 0 };
  private readonly streams = new Map<BuggifySite, Prng>();
  private stopped = false;

  /** `sites`: 'seeded' draws which sites are on from the seed; 'all' turns every one on. */
  constructor(seed: number, sites: 'seeded' | 'all' = 'seeded') {
    const pick = new Prng(seed ^ 0x6b0661f7);
    for (const site of BUGGIFY_SITES) {
      const on = pick.nextFloat() < SITE_ON;
      if (on || sites === 'all') this.streams.set(site, new Prng(seed ^ hashName(site)));
    }
  }

  /** The sites this run has on. */
  get sites(): BuggifySite[] {
    return BUGGIFY_SITES.filter((s) => this.streams.has(s));
  }

  /** No more perturbations from now on (the liveness phase: faults stop). */
  stop(): void {
    this.stopped = true;
  }

  /** Whether `site` acts on this chance; a disabled site never draws. */
  fires(site: BuggifySite): boolean {
    const prng = this.streams.get(site);
    if (prng === undefined || this.stopped || prng.nextFloat() >= FIRE_RATE[site]) return false;
    this.fired[site]++;
    return true;
  }

  /**
   * A delay for a site that fired, in ms: mostly short, sometimes long (a busy event loop, a GC pause), from the
   * site's own stream: log-uniform in [loMs, hiMs].
   */
  delayMs(site: BuggifySite, loMs: number, hiMs: number): number {
    const prng = this.streams.get(site)!;
    return Math.exp(Math.log(loMs) + (Math.log(hiMs) - Math.log(loMs)) * prng.nextFloat());
  }

  /** An integer in [lo, hi] from the site's stream. */
  count(site: BuggifySite, lo: number, hi: number): number {
    return this.streams.get(site)!.intBetween(lo, hi);
  }
}

function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
