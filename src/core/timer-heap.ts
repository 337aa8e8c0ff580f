// A binary min-heap of items keyed by a deadline, each item knowing its own index so it can be moved in
// O(log n) when its deadline changes. The endpoint keeps its connections here; pollTimeoutMs() is the top.

export interface HeapItem {
  heapDeadlineMs: number;
  heapIndex: number;
  /** Breaks ties between equal deadlines, so the firing order never depends on when the heap was updated. */
  readonly id: number;
}

function before(a: HeapItem, b: HeapItem): boolean {
  return a.heapDeadlineMs < b.heapDeadlineMs || (a.heapDeadlineMs === b.heapDeadlineMs && a.id < b.id);
}

export class TimerHeap<T extends HeapItem> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** The items in heap order (snapshots keep it, so equal deadlines fire in the same order after a restore). */
  order(): readonly T[] {
    return this.items;
  }

  /** Put back items in a saved heap order (each item's heapDeadlineMs already set). */
  restoreOrder(items: T[]): void {
    this.items.length = 0;
    items.forEach((item, i) => {
      item.heapIndex = i;
      this.items.push(item);
    });
  }

  /** Insert, move or remove (deadline Infinity) an item. */
  update(item: T, deadlineMs: number): void {
    if (deadlineMs === Infinity) {
      if (item.heapIndex >= 0) this.remove(item);
      item.heapDeadlineMs = Infinity;
      return;
    }
    if (item.heapIndex < 0) {
      item.heapDeadlineMs = deadlineMs;
      item.heapIndex = this.items.length;
      this.items.push(item);
      this.up(item.heapIndex);
      return;
    }
    item.heapDeadlineMs = deadlineMs;
    this.up(item.heapIndex);
    this.down(item.heapIndex);
  }

  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0) return;
    const last = this.items.pop()!;
    item.heapIndex = -1;
    if (last === item) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.up(i);
    this.down(last.heapIndex);
  }

  private up(i: number): void {
    const a = this.items;
    const item = a[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p]!;
      if (!before(item, parent)) break;
      a[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    a[i] = item;
    item.heapIndex = i;
  }

  private down(i: number): void {
    const a = this.items;
    const n = a.length;
    const item = a[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(a[r]!, a[l]!) ? r : l;
      if (!before(a[c]!, item)) break;
      a[i] = a[c]!;
      a[i]!.heapIndex = i;
      i = c;
    }
    a[i] = item;
    item.heapIndex = i;
  }
}
