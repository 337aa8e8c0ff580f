// stevens' lab network: a deterministic discrete-event simulator of bad networks for sans-IO nodes.
export { Simulator } from './simulator.js';
export { Buggify, BUGGIFY_SITES, type BuggifySite } from './buggify.js';
export type { SimHost, HostOptions, ActivityHook } from './host.js';
export type { SimLink, LinkStats, PacketEvent, PacketEventKind } from './link.js';
export { ProfileError, checkLinkConfig, type LinkConfig, type JitterConfig, type GilbertElliott, type TimeWindow, type NetworkProfile } from './link-config.js';
export { PROFILES } from './profiles.js';
export { loadProfileFile, parseProfile } from './profile-file.js';
export { gilbertElliottStationaryLoss } from './loss.js';
export { EventQueue, type QueuedEvent } from './event-queue.js';
export type { SansIoNode } from './seam.js';
export { MemoryPair, type LinkImpairment } from './memory-pair.js';
export { Adversary, type AdversaryStats, type BlindKind, type SynOptions } from './adversary.js';
