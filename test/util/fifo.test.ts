// Fifo against an array model: every operation sequence leaves the same items in the same order.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Fifo } from '../../src/util/fifo.js';

type Op = { kind: 'push'; n: number } | { kind: 'shift'; n: number } | { kind: 'replace'; v: number } | { kind: 'clear' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('push' as const), n: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('shift' as const), n: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replace' as const), v: fc.integer() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const) }) },
);

describe('Fifo', () => {
  it('behaves as an array with push and shift, through compaction, clearing and reuse of slots', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const q = new Fifo<number>();
        const model: number[] = [];
        let next = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            for (let i = 0; i < o.n; i++) {
              q.push(next);
              model.push(next++);
            }
          } else if (o.kind === 'shift') {
            for (let i = 0; i < o.n; i++) assert.equal(q.shift(), model.shift());
          } else if (o.kind === 'replace') {
            if (model.length > 0) {
              q.replaceHead(o.v);
              model[0] = o.v;
            }
          } else {
            q.clear();
            model.length = 0;
          }
          assert.equal(q.length, model.length);
          assert.equal(q.peek(), model[0]);
          if (model.length > 0) assert.equal(q.at(model.length - 1), model[model.length - 1]);
        }
        assert.deepEqual(q.toArray(), model);
      }),
      { numRuns: 300 },
    );
  });
});
