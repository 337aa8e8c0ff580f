// The simulator's agenda: a binary min-heap of events ordered by virtual time, ties broken by insertion order
// (a sequence number the queue stamps on each event), so a run never depends on the heap's internal layout.
// Sifting moves a hole instead of swapping, and the events are plain objects the caller owns.

export interface QueuedEvent {
  atMs: number;
  /** Stamped by push(): the tie-breaker for events at the same time. */
  seq: number;
}

export class EventQueue<T extends QueuedEvent> {
  private readonly heap: T[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** The earliest event, left in place. */
  peek(): T | undefined {
    return this.heap[0];
  }

  push(ev: T): void {
    ev.seq = this.nextSeq++;
    const h = this.heap;
    let i = h.length;
    h.push(ev);
    const at = ev.atMs;
    const seq = ev.seq;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (parent.atMs < at || (parent.atMs === at && parent.seq < seq)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = ev;
  }

  /** Removes and returns the earliest event. */
  pop(): T | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    const n = h.length;
    if (n === 0 || last === undefined) return top;
    const at = last.atMs;
    const seq = last.seq;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let child = h[c]!;
      const r = c + 1;
      if (r < n) {
        const right = h[r]!;
        if (right.atMs < child.atMs || (right.atMs === child.atMs && right.seq < child.seq)) {
          c = r;
          child = right;
        }
      }
      if (at < child.atMs || (at === child.atMs && seq < child.seq)) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
    return top;
  }

  clear(): void {
    this.heap.length = 0;
  }
}
