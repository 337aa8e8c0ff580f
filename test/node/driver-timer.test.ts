// The driver loop fires its timer after the loop turn's I/O. A sender stalled (here: busy) past its RTO while the
// peer's ACK arrived meanwhile must handle that ACK before the timer, and so not retransmit. The server runs on a
// worker thread, so it answers while the sender's thread is busy.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { connect } from '../../src/node/index.js';

const STALL_MS = 500;

it('an RTO made moot by an ACK that arrived during a stall does not fire', async () => {
  const api = new URL('../../src/node/index.js', import.meta.url).href;
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     import(${JSON.stringify(api)}).then(({ createServer }) => {
       const server = createServer({}, (s) => s.on('data', () => {}).on('error', () => {}));
       server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
     });`,
    { eval: true },
  );
  try {
    const [port] = (await once(worker, 'message')) as [number];
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(socket.stats()!.rtoMs < STALL_MS / 2, `the RTO (${socket.stats()!.rtoMs} ms) is well inside the stall`);
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        socket.write(Buffer.alloc(1000, 7));
        const end = performance.now() + STALL_MS;
        while (performance.now() < end) {
          // busy: the ACK arrives in the socket meanwhile, and the RTO's time passes
        }
        resolve();
      }),
    );
    await new Promise((r) => setTimeout(r, 200));
    const s = socket.stats()!;
    assert.equal(s.timeouts, 0, 'no RTO fired');
    assert.equal(s.segmentsRetransmitted, 0);
    socket.destroy();
  } finally {
    await worker.terminate();
  }
});
