// No crash on ordinary paths: random sequences of close, destroy, end and abort (and the calls around them) on a
// server, its accepted socket and a client, in any order, now, a tick or a few milliseconds later, or from inside
// any event handler, against real loopback sockets. No exception may escape the library, every socket must end
// with 'close', and the server's close() callback must fire, each within a bound.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { connect, createServer, type Server, type Socket } from '../../src/node/index.js';

type Target = 'client' | 'accepted' | 'server';
/** When a command runs: in sequence (now, a tick or some ms after the previous one) or inside an event's handler. */
type When = { kind: 'now' } | { kind: 'tick' } | { kind: 'sleep'; ms: number } | { kind: 'on'; source: Target; event: string };

const SOCKET_ACTIONS = ['write', 'end', 'endWithData', 'destroy', 'destroyWithError', 'resetAndDestroy', 'destroySoon', 'pause', 'resume', 'setTimeout', 'sendDatagram', 'setKeepAlive', 'unref', 'ref'] as const;
const SERVER_ACTIONS = ['close', 'getConnections', 'unref', 'ref'] as const;
const SOCKET_EVENTS = ['connect', 'ready', 'data', 'end', 'finish', 'close', 'error', 'timeout', 'drain'];
const SERVER_EVENTS = ['listening', 'connection', 'close'];

interface Command {
  target: Target;
  action: string;
  when: When;
}

const when: fc.Arbitrary<When> = fc.oneof(
  fc.constant<When>({ kind: 'now' }),
  fc.constant<When>({ kind: 'tick' }),
  fc.integer({ min: 1, max: 25 }).map<When>((ms) => ({ kind: 'sleep', ms })),
  fc.constantFrom<Target>('client', 'accepted').chain((source) => fc.constantFrom(...SOCKET_EVENTS).map<When>((event) => ({ kind: 'on', source, event }))),
  fc.constantFrom(...SERVER_EVENTS).map<When>((event) => ({ kind: 'on', source: 'server', event })),
);

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ target: fc.constantFrom<Target>('client', 'accepted'), action: fc.constantFrom(...SOCKET_ACTIONS), when }),
  fc.record({ target: fc.constant<Target>('server'), action: fc.constantFrom(...SERVER_ACTIONS), when }),
);

function act(target: Socket | Server, action: string): void {
  if (target instanceof Map) return;
  if ('listen' in target) {
    const server = target;
    if (action === 'close') server.close();
    else if (action === 'getConnections') server.getConnections(() => undefined);
    else if (action === 'unref') server.unref();
    else if (action === 'ref') server.ref();
    return;
  }
  const s = target;
  switch (action) {
    case 'write':
      s.write(Buffer.alloc(3000, 1));
      break;
    case 'end':
      s.end();
      break;
    case 'endWithData':
      s.end(Buffer.from('bye'));
      break;
    case 'destroy':
      s.destroy();
      break;
    case 'destroyWithError':
      s.destroy(new Error('planned'));
      break;
    case 'resetAndDestroy':
      s.resetAndDestroy();
      break;
    case 'destroySoon':
      s.destroySoon();
      break;
    case 'pause':
      s.pause();
      break;
    case 'resume':
      s.resume();
      break;
    case 'setTimeout':
      s.setTimeout(5);
      break;
    case 'sendDatagram':
      s.sendDatagram(Buffer.from('dg'));
      break;
    case 'setKeepAlive':
      s.setKeepAlive(true, 1000);
      break;
    case 'unref':
      s.unref();
      break;
    case 'ref':
      s.ref();
      break;
  }
}

/** Wait until `done()` or fail after `ms`. */
async function until(done: () => boolean, ms: number, what: () => string): Promise<void> {
  const t0 = performance.now();
  while (!done()) {
    if (performance.now() - t0 > ms) assert.fail(`not within ${ms} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let cases = 0;

async function runCase(commands: Command[], closeInListenTick = false): Promise<void> {
  cases++;
  const started = performance.now();
  if (process.env.STEVENS_CALL_SEQUENCE_LOG) console.log(`# case ${cases}: ${JSON.stringify(commands)}`);
  const escaped: unknown[] = [];
  const onUncaught = (err: unknown) => escaped.push(err);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  // unref() may leave nothing holding the event loop while the case still waits: the test holds it.
  const hold = setInterval(() => undefined, 1000);
  const sockets: Socket[] = [];
  const closed = new Set<Socket>();
  let serverClosed = false;
  let client: Socket | undefined;
  let accepted: Socket | undefined;
  const pendingOn: Command[] = [];
  const run = (c: Command) => {
    const t = c.target === 'server' ? server : c.target === 'client' ? client : accepted;
    if (t === undefined) return;
    try {
      act(t, c.action);
    } catch (err) {
      escaped.push(err);
    }
  };
  const watch = (s: Socket, target: Target) => {
    sockets.push(s);
    // Errors are what the application is told (resets, timeouts, its own destroy(err)); each is handled here.
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.once('close', () => closed.add(s));
    for (const c of pendingOn) if (c.when.kind === 'on' && c.when.source === target) s.once(c.when.event, () => run(c));
  };
  const server = createServer({ idleTimeoutMs: 0 }, (s) => {
    if (accepted === undefined) {
      accepted = s;
      watch(s, 'accepted');
    } else {
      s.on('error', () => undefined);
      s.destroy();
    }
  });
  server.on('error', (err) => escaped.push(err));
  for (const c of commands) if (c.when.kind === 'on') pendingOn.push(c);
  for (const c of pendingOn) if (c.when.kind === 'on' && c.when.source === 'server') server.once(c.when.event as 'close', () => run(c));
  try {
    await new Promise<void>((resolve) => {
      server.once('listening', () => {
        // A command on 'listening' may have closed the server already.
        if (server.address() === null) return resolve();
        client = connect({ host: '127.0.0.1', port: server.address()!.port, rounds: 1, connectTimeoutMs: 1000 });
        watch(client, 'client');
        resolve();
      });
      server.listen(0, '127.0.0.1');
      if (closeInListenTick) server.close(() => resolve());
    });
    // Commands in order: each waits for its moment (an event's come when registered above).
    for (const c of commands) {
      if (c.when.kind === 'now') run(c);
      else if (c.when.kind === 'tick') await new Promise<void>((r) => setImmediate(() => (run(c), r())));
      else if (c.when.kind === 'sleep') await new Promise<void>((r) => setTimeout(() => (run(c), r()), (c.when as { ms: number }).ms));
    }
    await new Promise((r) => setTimeout(r, 10));
    // What an application does when it is done: destroy what it holds, close the server.
    for (const s of sockets) s.destroy();
    server.close(() => (serverClosed = true));
    await until(() => sockets.every((s) => closed.has(s)), 5000, () => `sockets still open: ${sockets.filter((s) => !closed.has(s)).length}`);
    await until(() => serverClosed, 5000, () => 'server close callback');
    assert.deepEqual(escaped, [], 'no exception escaped the library');
    if (process.env.STEVENS_CALL_SEQUENCE_LOG) console.log(`# ok ${(performance.now() - started).toFixed(0)} ms ${JSON.stringify(commands)}`);
  } finally {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    clearInterval(hold);
    for (const s of sockets) s.destroy();
  }
}

const NUM_RUNS = Number(process.env.STEVENS_CALL_SEQUENCE_RUNS ?? 100);

const ONE_CASE = process.env.STEVENS_CALL_SEQUENCE_CASE;
if (ONE_CASE !== undefined) {
  it('one call sequence, again and again (STEVENS_CALL_SEQUENCE_CASE)', async () => {
    for (let i = 0; i < 50; i++) await runCase(JSON.parse(ONE_CASE) as Command[]);
  });
}

it(`random sequences of close/destroy/end/abort on a server and its sockets never crash (${NUM_RUNS} cases)`, async () => {
  const t0 = performance.now();
  await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 9 }).map((n) => n === 0), runCase), { numRuns: NUM_RUNS, seed: Number(process.env.STEVENS_CALL_SEQUENCE_SEED ?? 15), endOnFailure: true, timeout: 20_000 });
  console.log(`# ${cases} call sequences in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
});
