// The seam every sans-IO protocol node offers a driver: datagrams in, datagrams out, one deadline, time passed
// in. stevens' Endpoint has it; so can any user's protocol, and the simulator drives them all the same way.
import type { Remote, Transmit } from '../core/index.js';

export interface SansIoNode {
  handleDatagram(nowMs: number, remote: Remote, bytes: Uint8Array): void;
  pollTransmit(nowMs: number): Transmit | undefined;
  pollTimeoutMs(): number | undefined;
  handleTimeout(nowMs: number): void;
}
