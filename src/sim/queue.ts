// The rate limiter: a bottleneck of rateBitsPerS in front of a bounded FIFO with tail drop. Service is
// deterministic, so each datagram's departure time is known when it is queued: the queue is a list of departure
// times and sizes, trimmed lazily as time passes, with no events of its own. Congestion loss ('queue-full') and
// bufferbloat (the wait growing towards queueBytes * 8 / rate) follow from it.

/** Linux's default txqueuelen: the bound when a rate is given without queueBytes or queuePackets. */
export const DEFAULT_QUEUE_PACKETS = 1000;

export class RateQueue {
  /** Departure time (end of serialization) and size of each datagram not yet gone, oldest first. */
  private departs: number[] = [];
  private sizes: number[] = [];
  private head = 0;
  /** Bytes and datagrams not yet fully serialized (the one on the wire included). */
  bytes = 0;
  packets = 0;
  /** When the transmitter finishes the last datagram accepted. */
  private busyUntilMs = 0;

  /**
   * Offers a datagram of `size` bytes at nowMs. Returns its departure time (serialization done), or -1 when
   * the queue has no room (tail drop). The rate is the one in force now; queued datagrams keep theirs.
   */
  offer(nowMs: number, size: number, rateBitsPerS: number, queueBytes: number | undefined, queuePackets: number | undefined): number {
    this.release(nowMs);
    const maxPackets = queuePackets ?? (queueBytes === undefined ? DEFAULT_QUEUE_PACKETS : Infinity);
    if (this.packets + 1 > maxPackets) return -1;
    if (queueBytes !== undefined && this.bytes + size > queueBytes) return -1;
    const start = this.busyUntilMs > nowMs ? this.busyUntilMs : nowMs;
    const depart = start + (size * 8000) / rateBitsPerS;
    this.busyUntilMs = depart;
    this.departs.push(depart);
    this.sizes.push(size);
    this.bytes += size;
    this.packets++;
    return depart;
  }

  /** Forgets datagrams whose serialization ended at or before nowMs. */
  release(nowMs: number): void {
    const d = this.departs;
    let h = this.head;
    while (h < d.length && d[h]! <= nowMs) {
      this.bytes -= this.sizes[h]!;
      this.packets--;
      h++;
    }
    if (h === d.length) {
      d.length = 0;
      this.sizes.length = 0;
      h = 0;
    } else if (h > 1024 && h * 2 > d.length) {
      this.departs = d.slice(h);
      this.sizes = this.sizes.slice(h);
      h = 0;
    }
    this.head = h;
  }
}
