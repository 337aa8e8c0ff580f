// Script-relative sequence numbers, as packetdrill writes them: the endpoint's sequence space counts from its
// ISN (script 0 = the endpoint's ISN), the peer's from the peer ISN (script 0 + the peer_isn directive).
// All arithmetic is modulo 2^32.

export function add32(a: number, b: number): number {
  return (a + b) >>> 0;
}

export function sub32(a: number, b: number): number {
  return (a - b) >>> 0;
}

export class SeqSpace {
  /** The endpoint's ISN once known (the isn directive, or learnt from its first SYN / SYN-ACK). */
  localIsn: number | undefined;
  readonly peerIsn: number;

  constructor(peerIsn: number, localIsn?: number) {
    this.peerIsn = peerIsn >>> 0;
    this.localIsn = localIsn === undefined ? undefined : localIsn >>> 0;
  }

  /** Base of the endpoint's space; 0 (absolute numbers) until its ISN is known. */
  get localBase(): number {
    return this.localIsn ?? 0;
  }

  /** Endpoint-space script value -> wire. */
  localAbs(rel: number): number {
    return add32(rel, this.localBase);
  }

  /** Wire -> endpoint-space script value. */
  localRel(abs: number): number {
    return sub32(abs, this.localBase);
  }

  peerAbs(rel: number): number {
    return add32(rel, this.peerIsn);
  }

  peerRel(abs: number): number {
    return sub32(abs, this.peerIsn);
  }
}
