// A sweep's worker thread: runs the seeds it is sent, one at a time, and posts progress and results back.
import { parentPort } from 'node:worker_threads';
import { runSoak } from './determinism.js';
import type { SoakOptions } from './types.js';

export type ToWorker = { type: 'run'; options: SoakOptions } | { type: 'exit' };
export type FromWorker =
  | { type: 'progress'; seed: number; simulatedMs: number; bytesRead: number; openConnections: number; pass?: number }
  | { type: 'result'; result: import('./types.js').SoakResult }
  | { type: 'error'; seed: number; message: string; stack?: string };

const port = parentPort;
if (port !== null) {
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'exit') {
      port.close();
      return;
    }
    const seed = msg.options.seed;
    try {
      const result = runSoak(msg.options, (p) => port.postMessage({ type: 'progress', seed, simulatedMs: p.simulatedMs, bytesRead: p.bytesRead, openConnections: p.openConnections, ...(p.pass !== undefined ? { pass: p.pass } : {}) } satisfies FromWorker));
      port.postMessage({ type: 'result', result } satisfies FromWorker);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      port.postMessage({ type: 'error', seed, message: err.message, stack: err.stack } satisfies FromWorker);
    }
  });
}
