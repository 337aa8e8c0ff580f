// Violations the soak finds in the core today, each with a seed and the command that reproduces it; the soak
// tests tolerate exactly these and nothing else. Empty: the three it found (datagrams after close(), a keepalive
// timer re-armed at the current time, per-connection profiles keeping the endpoint's numbers) are fixed.
import type { Violation } from '../../src/soak/index.js';

export interface KnownCoreBug {
  name: string;
  /** A seed and command that show it. */
  reproduce: string;
  match(v: Violation): boolean;
}

export const KNOWN_CORE_BUGS: KnownCoreBug[] = [];

/** The violations no known core bug explains. */
export function unexplained(violations: Violation[]): Violation[] {
  return violations.filter((v) => !KNOWN_CORE_BUGS.some((b) => b.match(v)));
}

export function show(violations: Violation[]): string {
  return violations.map((v) => `${v.kind} at ${v.atMs} ms ${v.connection ?? ''}: ${v.message}${v.stack ? `\n${v.stack}` : ''}`).join('\n');
}
