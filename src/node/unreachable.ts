// When an ICMP "unreachable" reported on a client's connected UDP socket ends its connection.
//
// The kernel hands a connected UDP socket the ICMP errors quoting its datagrams (Linux reports only the hard ones
// there: port unreachable as ECONNREFUSED, host unknown or administratively prohibited as EHOSTUNREACH), on the
// next send or receive. RFC 1122 4.2.3.9 says a TCP SHOULD abort on a hard error (port unreachable). But one ICMP
// message is weak evidence: it can be a stray (the error of a datagram sent to the peer's previous address or
// port, a middlebox's hiccup) or forged by anyone who guesses the ports, and RFC 5927 section 4 recommends that a
// synchronized connection not be reset by ICMP alone; Linux's TCP treats them as soft errors there. So, as
// RFC 5461 describes for soft errors during connection establishment, the connection attempt fails at the first
// one (src/node/connect.ts: nothing is lost, another address is tried), while an established connection is
// aborted only when the error has repeated: REPORTS_TO_ABORT reports, each at least one round trip after the
// previous (a burst from one flush counts once: the peer had no chance to answer in between), all within
// WINDOW_MS, and nothing heard from the peer since the first. A live peer answers in between and resets the
// count; a dead one is noticed within about three sends instead of the whole retransmission schedule (measured:
// README "A vanished peer"). Other codes (ENETUNREACH when the local network is gone, a laptop changing Wi-Fi)
// never abort: the user timeout decides.

/** Reports that end an established connection. */
export const UNREACHABLE_REPORTS_TO_ABORT = 3;
/** All of them within this long. */
export const UNREACHABLE_WINDOW_MS = 30_000;
/** The least gap between two counted reports when no RTT is known yet (and its floor). */
export const UNREACHABLE_MIN_GAP_MS = 10;

/** The codes that may end an established connection. */
export function isUnreachableCode(code: string | undefined): code is 'ECONNREFUSED' | 'EHOSTUNREACH' {
  return code === 'ECONNREFUSED' || code === 'EHOSTUNREACH';
}

/** One connection's count of unreachable reports. */
export class UnreachableRule {
  private readonly reportsAtMs: number[] = [];

  /**
   * A report at nowMs; `lastHeardMs` is when a segment from the peer last arrived and `srttMs` the smoothed RTT
   * (0 or NaN when unknown). True when the connection should be aborted.
   */
  report(nowMs: number, lastHeardMs: number, srttMs: number): boolean {
    const reports = this.reportsAtMs;
    // The peer spoke after the first report (it is alive), or the first one is too old: start again.
    while (reports.length > 0 && (lastHeardMs >= reports[0]! || nowMs - reports[0]! > UNREACHABLE_WINDOW_MS)) reports.shift();
    const gapMs = Math.max(UNREACHABLE_MIN_GAP_MS, Number.isFinite(srttMs) ? srttMs : 0);
    const last = reports[reports.length - 1];
    if (last !== undefined && nowMs - last < gapMs) return false;
    reports.push(nowMs);
    return reports.length >= UNREACHABLE_REPORTS_TO_ABORT;
  }

  /** Reports counted so far (since the peer was last heard from). */
  get count(): number {
    return this.reportsAtMs.length;
  }

  /** When the first counted report arrived, if any. */
  get firstAtMs(): number | undefined {
    return this.reportsAtMs[0];
  }
}
