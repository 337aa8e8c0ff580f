// A bulk transfer both ways between the two endpoints of a MemoryPair, with SHA-256 of what was written and
// what was read on each side.
import { createHash, type Hash } from 'node:crypto';
import type { Connection, EndpointEvent } from '../../src/core/index.js';
import { MemoryPair } from '../../src/sim/memory-pair.js';
import { Prng } from '../../src/core/prng.js';

export interface BulkResult {
  done: boolean;
  nowMs: number;
  sentDigest: [string, string];
  receivedDigest: [string, string];
  receivedBytes: [number, number];
  closed: [boolean, boolean];
  errors: string[];
  connections: [Connection | undefined, Connection | undefined];
}

/** Deterministic pseudo-random bytes. */
export function patternBytes(seed: number, n: number): Uint8Array {
  const prng = new Prng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const v = prng.nextUint32();
    out[i] = v & 0xff;
    if (i + 1 < n) out[i + 1] = (v >>> 8) & 0xff;
    if (i + 2 < n) out[i + 2] = (v >>> 16) & 0xff;
    if (i + 3 < n) out[i + 3] = v >>> 24;
  }
  return out;
}

const patternCache = new Map<string, Uint8Array>();

function cachedPattern(seed: number, n: number): Uint8Array {
  const key = `${seed}/${n}`;
  let p = patternCache.get(key);
  if (p === undefined) {
    p = patternBytes(seed, n);
    patternCache.set(key, p);
  }
  return p;
}

/** `hash: false` skips the digests (benchmarks measure the protocol, not SHA-256); byte counts still checked. */
export function bulkTransfer(pair: MemoryPair, bytesEachWay: [number, number], limitMs: number, port = 5000, hash = true): BulkResult {
  const [a, b] = pair.endpoints;
  b.listen({ port });
  const conns: [Connection | undefined, Connection | undefined] = [undefined, undefined];
  const data = [cachedPattern(11, bytesEachWay[0]), cachedPattern(22, bytesEachWay[1])];
  const written = [0, 0];
  const sentHash: Hash[] = [createHash('sha256'), createHash('sha256')];
  const recvHash: Hash[] = [createHash('sha256'), createHash('sha256')];
  const received: [number, number] = [0, 0];
  const ended = [false, false];
  const closed: [boolean, boolean] = [false, false];
  const errors: string[] = [];
  conns[0] = a.connect(pair.nowMs, pair.addresses[1], { port });

  const pump = (side: 0 | 1) => {
    const c = conns[side]!;
    while (written[side]! < data[side]!.length) {
      const chunk = data[side]!.subarray(written[side]!, Math.min(written[side]! + 65536, data[side]!.length));
      const n = c.write(chunk);
      if (hash) sentHash[side]!.update(chunk.subarray(0, n));
      written[side]! += n;
      if (n < chunk.length) return;
    }
    c.shutdown();
  };
  const onEvent = (side: 0 | 1, ev: EndpointEvent) => {
    switch (ev.type) {
      case 'accepted':
        conns[side] = ev.connection;
        pump(side);
        break;
      case 'connected':
      case 'writable':
        pump(side);
        break;
      case 'readable': {
        for (let chunk = ev.connection.read(); chunk.length > 0; chunk = ev.connection.read()) {
          if (hash) recvHash[side]!.update(chunk);
          received[side] += chunk.length;
        }
        break;
      }
      case 'end':
        ended[side] = true;
        break;
      case 'closed':
        closed[side] = true;
        if (ev.error) errors.push(`side ${side}: ${ev.error.code} ${ev.error.message}`);
        break;
    }
  };
  const isDone = () => (closed[0] && closed[1]) || errors.length > 0;
  const done = pair.run(onEvent, isDone, limitMs);
  return {
    done: done && errors.length === 0,
    nowMs: pair.nowMs,
    sentDigest: [sentHash[0]!.digest('hex'), sentHash[1]!.digest('hex')],
    // side 0 receives what side 1 sent, and the other way round
    receivedDigest: [recvHash[1]!.digest('hex'), recvHash[0]!.digest('hex')],
    receivedBytes: [received[1], received[0]],
    closed,
    errors,
    connections: conns,
  };
}
