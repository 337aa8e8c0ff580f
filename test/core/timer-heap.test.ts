// TimerHeap against a naive model: a map from item to deadline, whose minimum is what peek() must return.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TimerHeap, type HeapItem } from '../../src/core/timer-heap.js';

interface Item extends HeapItem {
  id: number;
}

function makeItems(n: number): Item[] {
  return Array.from({ length: n }, (_, id) => ({ id, heapDeadlineMs: Infinity, heapIndex: -1 }));
}

type Op = { kind: 'update'; item: number; deadline: number } | { kind: 'remove'; item: number } | { kind: 'pop' };

const N = 24;
const deadline = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 50 }) }, // many ties
  { weight: 2, arbitrary: fc.double({ min: -1e6, max: 1e9, noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constant(Infinity) },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('update' as const), item: fc.nat(N - 1), deadline }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), item: fc.nat(N - 1) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'pop' as const }) },
);

function check(heap: TimerHeap<Item>, items: Item[], model: Map<number, number>): void {
  assert.equal(heap.size, model.size);
  const top = heap.peek();
  if (model.size === 0) {
    assert.equal(top, undefined);
  } else {
    const min = Math.min(...model.values());
    assert.ok(top !== undefined);
    assert.equal(top.heapDeadlineMs, min, 'peek is the minimum');
    assert.equal(model.get(top.id), min, 'peek is an item the model holds at that deadline');
  }
  for (const it of items) {
    if (model.has(it.id)) {
      assert.ok(it.heapIndex >= 0 && it.heapIndex < heap.size, `item ${it.id} in heap`);
      assert.equal(it.heapDeadlineMs, model.get(it.id));
    } else {
      assert.equal(it.heapIndex, -1, `item ${it.id} not in heap`);
    }
  }
  // heapIndex values are a permutation of 0..size-1
  const inHeap = items.filter((i) => i.heapIndex >= 0);
  const idx = inHeap.map((i) => i.heapIndex).sort((a, b) => a - b);
  assert.deepEqual(idx, Array.from({ length: heap.size }, (_, i) => i));
  // The heap property, through the items' own indices: no item is earlier than its parent.
  const byIndex = new Map(inHeap.map((i) => [i.heapIndex, i]));
  for (const it of inHeap) {
    if (it.heapIndex === 0) continue;
    const parent = byIndex.get((it.heapIndex - 1) >> 1)!;
    assert.ok(parent.heapDeadlineMs <= it.heapDeadlineMs, `item ${it.id} (${it.heapDeadlineMs}) under ${parent.id} (${parent.heapDeadlineMs})`);
  }
}

describe('TimerHeap', () => {
  it('basic ordering, moving an item up and down, removal', () => {
    const heap = new TimerHeap<Item>();
    const [a, b, c] = makeItems(3) as [Item, Item, Item];
    heap.update(a, 30);
    heap.update(b, 10);
    heap.update(c, 20);
    assert.equal(heap.peek(), b);
    heap.update(b, 40); // down
    assert.equal(heap.peek(), c);
    heap.update(a, 5); // up
    assert.equal(heap.peek(), a);
    heap.remove(a);
    assert.equal(a.heapIndex, -1);
    assert.equal(heap.peek(), c);
    heap.update(c, Infinity); // Infinity removes
    assert.equal(heap.size, 1);
    assert.equal(heap.peek(), b);
    heap.remove(b);
    heap.remove(b); // twice is harmless
    assert.equal(heap.size, 0);
    assert.equal(heap.peek(), undefined);
  });

  it('removing from one subtree moves the last item up when it is earlier than the new parent', () => {
    // Layout after the inserts: [0, 100, 1, 101, 102, 2, 3]; removing 102 (index 4, under 100) puts 3 there.
    const heap = new TimerHeap<Item>();
    const items = makeItems(7);
    const ds = [0, 100, 1, 101, 102, 2, 3];
    ds.forEach((d, i) => heap.update(items[i]!, d));
    assert.deepEqual(items.map((i) => i.heapIndex), [0, 1, 2, 3, 4, 5, 6]);
    heap.remove(items[4]!);
    const model = new Map(ds.map((d, i) => [i, d]));
    model.delete(4);
    check(heap, items, model);
    const order: number[] = [];
    for (let t = heap.peek(); t !== undefined; t = heap.peek()) {
      order.push(t.heapDeadlineMs);
      heap.remove(t);
    }
    assert.deepEqual(order, [0, 1, 2, 3, 100, 101]);
  });

  it('property: random update/remove sequences match a naive model; peek is always the minimum', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const heap = new TimerHeap<Item>();
        const items = makeItems(N);
        const model = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === 'update') {
            heap.update(items[o.item]!, o.deadline);
            if (o.deadline === Infinity) model.delete(o.item);
            else model.set(o.item, o.deadline);
          } else if (o.kind === 'remove') {
            heap.remove(items[o.item]!);
            model.delete(o.item);
          } else {
            const top = heap.peek();
            if (top !== undefined) {
              heap.remove(top);
              model.delete(top.id);
            }
          }
          check(heap, items, model);
        }
        // Draining gives the deadlines in non-decreasing order.
        const drained: number[] = [];
        for (let t = heap.peek(); t !== undefined; t = heap.peek()) {
          drained.push(t.heapDeadlineMs);
          heap.remove(t);
        }
        assert.deepEqual(drained, [...model.values()].sort((x, y) => x - y));
      }),
      { seed: 1337, numRuns: 400 },
    );
  });

  it('property: removing from the middle of a large heap keeps the order (up and down after the swap)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 200 }),
        fc.array(fc.nat(), { maxLength: 100 }),
        (deadlines, removals) => {
          const heap = new TimerHeap<Item>();
          const items = makeItems(deadlines.length);
          const model = new Map<number, number>();
          deadlines.forEach((d, i) => {
            heap.update(items[i]!, d);
            model.set(i, d);
          });
          for (const r of removals) {
            const i = r % items.length;
            heap.remove(items[i]!);
            model.delete(i);
            check(heap, items, model);
          }
        },
      ),
      { seed: 99, numRuns: 200 },
    );
  });
});
