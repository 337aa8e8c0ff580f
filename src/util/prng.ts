// A seeded xoroshiro128+ from pure-rand whose state can be saved and restored, so a run (and a replay) is a
// function of its seed: the endpoint's one source of randomness, and the simulator's and the workloads' too.
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';

type Generator = ReturnType<typeof xoroshiro128plus>;

export class Prng {
  private gen: Generator;

  constructor(seed: number) {
    this.gen = xoroshiro128plus(seed | 0);
    // xoroshiro's first outputs from a small seed are nearly the seed itself; mix the state first.
    for (let i = 0; i < 16; i++) this.gen.next();
  }

  static fromState(state: readonly number[]): Prng {
    const p = new Prng(0);
    p.gen = xoroshiro128plusFromState(state);
    return p;
  }

  getState(): number[] {
    return [...this.gen.getState()];
  }

  setState(state: readonly number[]): void {
    this.gen = xoroshiro128plusFromState(state);
  }

  /** A uniform unsigned 32-bit integer. */
  nextUint32(): number {
    return this.gen.next() >>> 0;
  }

  /** A uniform integer in [from, to], both included. */
  intBetween(from: number, to: number): number {
    return uniformInt(this.gen, from, to);
  }

  /** A uniform float in [0, 1). */
  nextFloat(): number {
    return (this.gen.next() >>> 0) / 4294967296;
  }
}
