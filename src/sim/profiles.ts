// Named network profiles: the paths the lab tests over. `up` is client -> server, `down` server -> client;
// delays are one-way, so the round trip is about up.delayMs + down.delayMs. Each number's reason is beside it.
//
//   profile      one-way delay     jitter                          loss                          rate (up / down), queue            other
//   -----------  ----------------  ------------------------------  ----------------------------  ---------------------------------  -----------------------------
//   lan          0.15 ms           uniform 0-0.05 ms, in order     none                          1 Gbit/s, 1000 datagrams           -
//   wifi         10 ms             pareto 2 ms / 2.5, cap 150 ms,  0.5% random                   20 / 50 Mbit/s, 256 datagrams      0.1% duplicated
//                                  in order
//   wifi-fade    as wifi           as wifi; 5-15 s: pareto 20 ms   as wifi; 5-15 s: 10%          as wifi; 5-15 s: 2 Mbit/s          the wifi turns bad for 10 s
//   mobile-3g    60 / 50 ms        normal sd 15 ms, in order       Gilbert-Elliott ~1.2% (fades) 0.5 / 2 Mbit/s, 32 / 128 KB         -
//   lossy-5      20 ms             none                            5% random                     unlimited                          -
//   bursty       25 ms             none                            Gilbert-Elliott ~3% in bursts unlimited                          -
//   satellite    300 ms            normal sd 10 ms, in order       0.5% random                   3 / 15 Mbit/s, 300 KB / 1.5 MB      -
//   bufferbloat  15 ms             none                            none but tail drops           1 / 8 Mbit/s, 256 KB each          up to 2.1 s of queueing up
//   hell         40 ms             pareto 5 ms / 1.5, cap 500 ms   2% random + Gilbert-Elliott   5 Mbit/s, 64 KB                    2% reordered, 2% duplicated,
//                                  (reorders)                      ~1.7%                                                            1% bit flips, 0.5% truncated,
//                                                                                                                                   max 1472 bytes, outage 3-4.5 s,
//                                                                                                                                   10% loss at 1 Mbit/s 8-10 s
//
// Schedules and outages are in absolute simulation time: they assume the connection starts near time zero.
import type { LinkConfig, NetworkProfile } from './link-config.js';

function both(name: string, description: string, link: LinkConfig): NetworkProfile {
  return { name, description, up: structuredClone(link), down: structuredClone(link) };
}

const lan: NetworkProfile = both('lan', 'switched gigabit Ethernet in one building', {
  // Ping on a switched GbE LAN shows 0.1-0.3 ms round trips.
  delayMs: 0.15,
  // Store-and-forward and interrupt moderation vary by tens of microseconds; switches do not reorder.
  jitter: { kind: 'uniform', maxMs: 0.05 },
  preserveOrder: true,
  rateBitsPerS: 1e9,
  // Linux's default txqueuelen.
  queuePackets: 1000,
});

const WIFI_UP: LinkConfig = {
  // ~2-5 ms over the air plus ~15 ms across the ISP to a server in the same region: a 20 ms round trip.
  delayMs: 10,
  // Contention and link-layer retries add a right-skewed delay: mean extra 2 / 1.5 = 1.3 ms, 1% of datagrams over
  // 10 ms; the cap is about what a power-save beacon stall reaches.
  jitter: { kind: 'pareto', scaleMs: 2, shape: 2.5, capMs: 150 },
  // 802.11 queues per access class are FIFO: delay varies, order is kept.
  preserveOrder: true,
  // Residual loss after 802.11's link-layer retries on a busy 2.4/5 GHz channel.
  lossRate: 0.005,
  // A link-layer retry after a lost 802.11 ACK delivers the frame twice.
  duplicateRate: 0.001,
  // Real throughput of a home 802.11n/ac link; the client's uplink is weaker (antenna, power).
  rateBitsPerS: 20e6,
  // Driver plus access point buffering: 256 full datagrams are 126 ms at 20 Mbit/s, 50 ms at 50 Mbit/s.
  queuePackets: 256,
};
const WIFI_DOWN: LinkConfig = { ...WIFI_UP, jitter: { kind: 'pareto', scaleMs: 2, shape: 2.5, capMs: 150 }, rateBitsPerS: 50e6 };

const wifi: NetworkProfile = {
  name: 'wifi',
  description: 'home Wi-Fi (802.11n/ac, walls, neighbours) to a server in the same region: 20 ms RTT, skewed jitter, 0.5% loss',
  up: WIFI_UP,
  down: WIFI_DOWN,
};

/** The wifi link turning bad from 5 s to 15 s (someone microwaves lunch, or walks to the garden). */
function fading(link: LinkConfig): LinkConfig {
  return {
    ...structuredClone(link),
    schedule: [
      // Heavy interference: rate adaptation falls to a low MCS, retries stretch the delay, 10% still lost.
      { atMs: 5_000, set: { lossRate: 0.1, rateBitsPerS: 2e6, jitter: { kind: 'pareto', scaleMs: 20, shape: 2, capMs: 500 } } },
      { atMs: 15_000, set: { lossRate: link.lossRate, rateBitsPerS: link.rateBitsPerS, jitter: structuredClone(link.jitter) } },
    ],
  };
}

const wifiFade: NetworkProfile = {
  name: 'wifi-fade',
  description: 'the wifi profile turning bad for ten seconds (5 s to 15 s: 10% loss, 2 Mbit/s, long delay spikes)',
  up: fading(WIFI_UP),
  down: fading(WIFI_DOWN),
};

// Radio fades as bursts: a bad spell every ~500 datagrams (p = 0.002) lasting ~20 (r = 0.05), losing 30% of what is
// sent in it; RLC retransmission hides the rest. Long-run loss (0.05 * 0 + 0.002 * 0.3) / 0.052 = 1.15%.
const FADES = { pGoodToBad: 0.002, pBadToGood: 0.05, lossInGood: 0, lossInBad: 0.3 };

const mobile3g: NetworkProfile = {
  name: 'mobile-3g',
  description: 'an HSPA (3G) phone to a server in the same country: 110 ms RTT, 0.5/2 Mbit/s, deep network buffers, fades',
  up: {
    // HSPA round trips measure 100-200 ms; the uplink waits for scheduling grants, so it is the slower half.
    delayMs: 60,
    // Scheduling and HARQ retransmissions (2 ms TTIs, several rounds); RLC acknowledged mode delivers in order.
    jitter: { kind: 'normal', stdDevMs: 15 },
    preserveOrder: true,
    gilbertElliott: FADES,
    // A shared HSPA cell: about 0.3-1 Mbit/s up, 1-3 Mbit/s down in practice.
    rateBitsPerS: 0.5e6,
    // 512 ms of buffering at the uplink rate (phone modem queues are deep).
    queueBytes: 32_000,
  },
  down: {
    delayMs: 50,
    jitter: { kind: 'normal', stdDevMs: 15 },
    preserveOrder: true,
    gilbertElliott: FADES,
    rateBitsPerS: 2e6,
    // RNC buffers: 512 ms at 2 Mbit/s, the bufferbloat 3G networks were known for.
    queueBytes: 128_000,
  },
};

const lossy5: NetworkProfile = both('lossy-5', '5% independent random loss each way over a 40 ms RTT path, nothing else', {
  // A continental path.
  delayMs: 20,
  // The classic stress level in TCP loss-recovery studies: every 20th datagram, independently.
  lossRate: 0.05,
});

const bursty: NetworkProfile = both('bursty', 'Gilbert-Elliott loss over a 50 ms RTT path: ~3% lost, mostly in bursts of 2-4', {
  delayMs: 25,
  // Good spells average 1 / 0.01 = 100 datagrams, bad spells 1 / 0.3 = 3.3 datagrams of which 90% are lost; a
  // stray 0.1% is lost in good spells. Long-run loss (0.3 * 0.001 + 0.01 * 0.9) / 0.31 = 3.0%. Internet loss
  // measurements (Bolot 1993, Yajnik et al. 1999) fit two-state models with bursts of a few packets.
  gilbertElliott: { pGoodToBad: 0.01, pBadToGood: 0.3, lossInGood: 0.001, lossInBad: 0.9 },
});

const satellite: NetworkProfile = {
  name: 'satellite',
  description: 'consumer geostationary satellite internet: 600 ms RTT, 3/15 Mbit/s, 0.5% loss',
  up: {
    // 4 x 35,786 km up and down at the speed of light is 477 ms; gateway, terrestrial leg and processing bring
    // the round trip to ~600 ms.
    delayMs: 300,
    // Hub scheduling of the shared return channel; the path is FIFO.
    jitter: { kind: 'normal', stdDevMs: 10 },
    preserveOrder: true,
    // Residual loss after FEC in clear sky (rain fade aside).
    lossRate: 0.005,
    // Consumer VSAT plans: a few Mbit/s up, ~15 down.
    rateBitsPerS: 3e6,
    // About a bandwidth-delay product: 3 Mbit/s * 0.6 s / 8 = 225 KB, rounded up (800 ms of queue).
    queueBytes: 300_000,
  },
  down: {
    delayMs: 300,
    jitter: { kind: 'normal', stdDevMs: 10 },
    preserveOrder: true,
    lossRate: 0.005,
    rateBitsPerS: 15e6,
    // 15 Mbit/s * 0.6 s / 8 = 1.1 MB, rounded up (800 ms of queue).
    queueBytes: 1_500_000,
  },
};

const bufferbloat: NetworkProfile = {
  name: 'bufferbloat',
  description: 'a slow access link with a deep modem buffer: 1 Mbit/s up with 256 KB (2.1 s of queue), 8 Mbit/s down',
  up: {
    delayMs: 15,
    // A DSL or cable upstream.
    rateBitsPerS: 1e6,
    // A 256 KB modem buffer: 256 KB * 8 / 1 Mbit/s = 2.1 s of queueing before the first tail drop, the
    // multi-second latencies Gettys measured under upload load.
    queueBytes: 262_144,
  },
  down: {
    delayMs: 15,
    rateBitsPerS: 8e6,
    // The same buffer is 262 ms at the downstream rate.
    queueBytes: 262_144,
  },
};

const HELL: LinkConfig = {
  delayMs: 40,
  // Heavy tail (infinite variance at shape 1.5), not kept in order: reordering by the hundred.
  jitter: { kind: 'pareto', scaleMs: 5, shape: 1.5, capMs: 500 },
  lossRate: 0.02,
  // Bad spells every ~200 datagrams lasting ~5, losing 70%: another (0.005 * 0.7) / 0.205 = 1.7%.
  gilbertElliott: { pGoodToBad: 0.005, pBadToGood: 0.2, lossInGood: 0, lossInBad: 0.7 },
  reorderRate: 0.02,
  duplicateRate: 0.02,
  // Far above real links (link-layer CRCs catch nearly everything), to exercise the receiver's CRC.
  corruptRate: 0.01,
  truncateRate: 0.005,
  // Ethernet's 1500-byte MTU minus IPv4 (20) and UDP (8) headers: anything larger would need fragmentation.
  maxDatagramBytes: 1472,
  rateBitsPerS: 5e6,
  // ~105 ms of queue at 5 Mbit/s.
  queueBytes: 65_536,
  // A route flap: 1.5 s of nothing.
  outages: [{ fromMs: 3_000, toMs: 4_500 }],
  // Two seconds of a congested, lossy path, then back.
  schedule: [
    { atMs: 8_000, set: { lossRate: 0.1, rateBitsPerS: 1e6 } },
    { atMs: 10_000, set: { lossRate: 0.02, rateBitsPerS: 5e6 } },
  ],
};

const hell: NetworkProfile = both('hell', 'everything at once: heavy-tailed jitter, random and bursty loss, reordering, duplication, corruption, truncation, a bottleneck, an outage and a bad spell', HELL);

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/** The named profiles (frozen: connect() copies what it uses). */
export const PROFILES: Record<string, NetworkProfile> = deepFreeze({
  lan,
  wifi,
  'wifi-fade': wifiFade,
  'mobile-3g': mobile3g,
  'lossy-5': lossy5,
  bursty,
  satellite,
  bufferbloat,
  hell,
});
