// A first-in first-out queue on an array with a moving head and tail: O(1) push and shift, and emptied slots are
// reused in place. Trimming the array to length 0 whenever it empties (which a transmit queue does on every poll)
// makes V8 release and regrow its backing store each time.

/** Beyond this many slots, an emptied queue gives its array back (a long backlog should not pin memory). */
const KEEP_SLOTS = 256;

export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private tail = 0;

  get length(): number {
    return this.tail - this.head;
  }

  push(item: T): void {
    if (this.tail < this.items.length) this.items[this.tail] = item;
    else this.items.push(item);
    this.tail++;
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.head < this.tail ? this.items[this.head] : undefined;
  }

  /** The i-th item from the oldest (0 <= i < length). */
  at(i: number): T {
    return this.items[this.head + i] as T;
  }

  /** Put `item` in the oldest item's place (what is left of it after a partial take). */
  replaceHead(item: T): void {
    this.items[this.head] = item;
  }

  shift(): T | undefined {
    if (this.head === this.tail) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.tail) this.clear();
    else if (this.head > 64 && this.head * 2 > this.tail) {
      // Mostly dead slots in front: compact.
      this.items = this.items.slice(this.head, this.tail);
      this.tail -= this.head;
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    if (this.items.length > KEEP_SLOTS) this.items = [];
    else this.items.fill(undefined, this.head, this.tail);
    this.head = 0;
    this.tail = 0;
  }

  toArray(): T[] {
    return this.items.slice(this.head, this.tail) as T[];
  }
}
