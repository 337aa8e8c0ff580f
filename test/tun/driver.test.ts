// The TUN driver without a TUN device (no root needed): a test UDP socket plays socat, and a second core Endpoint
// plays the kernel, its segments framed as real IP packets both ways. Also the CLI's argument errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Endpoint, type Connection } from '../../src/core/index.js';
import { Prng } from '../../src/util/prng.js';
import { datagramToIp, ipToDatagram } from '../../src/ip/framing.js';
import { KERNEL_UDP_PORT, TunDriver, ConnectionRouter, serveService, Chargen, RandomBytes, SeededLoss, type LossRule } from '../../src/tun/index.js';
import { parseBytes } from '../../src/cli/tun.js';

const US = '198.18.0.2';
const KERNEL = '198.18.0.1';

interface Rig {
  driver: TunDriver;
  socat: Socket;
  kernel: Endpoint;
  /** Packets the driver sent towards the device. */
  packets: Uint8Array[];
  close(): Promise<void>;
}

/** The driver on loopback, a fake socat, and a core endpoint as "the kernel" behind it. */
async function rig(options: { loss?: LossRule } = {}): Promise<Rig> {
  const driver = new TunDriver({ seed: 1, address: US, address6: 'fd00:5:0:0::2', maxDatagramBytes: 1452, ...options });
  const driverPort = await driver.bind();
  const socat = createSocket('udp4');
  await new Promise<void>((resolve) => socat.bind(0, '127.0.0.1', () => resolve()));
  driver.setSocatPort(socat.address().port);
  const kernel = new Endpoint({ seed: 2, maxDatagramBytes: 1452 });
  const packets: Uint8Array[] = [];
  let timer: NodeJS.Timeout | undefined;
  const pump = () => {
    const now = performance.now();
    kernel.handleTimeout(now);
    for (let t = kernel.pollTransmit(now); t; t = kernel.pollTransmit(now)) {
      const ip = datagramToIp(t.bytes, KERNEL, t.remote.address);
      assert.ok(ip.ok);
      socat.send(ip.value, driverPort, '127.0.0.1');
    }
    const at = kernel.pollTimeoutMs();
    if (timer) clearTimeout(timer);
    timer = at === undefined ? undefined : setTimeout(pump, Math.max(0, at - performance.now()));
  };
  socat.on('message', (msg) => {
    packets.push(new Uint8Array(msg));
    const d = ipToDatagram(msg);
    assert.ok(d.ok, 'the driver sends valid IP packets with correct checksums');
    assert.equal(d.value.src, US);
    kernel.handleDatagram(performance.now(), { address: d.value.src, port: KERNEL_UDP_PORT }, d.value.datagram);
    pump();
  });
  (kernel as unknown as { pump: () => void }).pump = pump;
  return {
    driver,
    socat,
    kernel,
    packets,
    close: async () => {
      if (timer) clearTimeout(timer);
      await driver.close();
      await new Promise<void>((resolve) => socat.close(() => resolve()));
    },
  };
}

function kernelPump(r: Rig): void {
  (r.kernel as unknown as { pump: () => void }).pump();
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The "kernel" connects to the driver's echo server and sends `bytes`; returns what came back. */
async function echoThrough(r: Rig, bytes: Uint8Array): Promise<{ conn: Connection; back: Uint8Array }> {
  const router = new ConnectionRouter(r.driver);
  serveService(router, 'echo');
  r.driver.act(() => r.driver.endpoint.listen({ port: 7 }));
  const conn = r.kernel.connect(performance.now(), { address: US, port: KERNEL_UDP_PORT }, { port: 7 });
  kernelPump(r);
  await until(() => conn.state === 'ESTABLISHED');
  let sent = 0;
  const chunks: Uint8Array[] = [];
  let got = 0;
  await until(() => {
    if (sent < bytes.length) sent += conn.write(bytes.subarray(sent));
    else if (conn.state === 'ESTABLISHED') conn.shutdown();
    for (let c = conn.read(); c.length > 0; c = conn.read()) {
      chunks.push(c);
      got += c.length;
    }
    kernelPump(r);
    return got === bytes.length && conn.ended;
  }, 20_000);
  return { conn, back: Buffer.concat(chunks) };
}

describe('TunDriver (a fake socat on loopback, a core endpoint as the kernel)', () => {
  it('echoes through real IPv4+TCP framing; the MSS fits a 1500-byte MTU', async () => {
    const r = await rig();
    try {
      const data = new RandomBytes(7, 300_000).next(300_000);
      const { conn, back } = await echoThrough(r, data);
      assert.ok(Buffer.from(back).equals(Buffer.from(data)), "the echo matches");
      assert.equal(conn.stats().peerMssBytes, 1426, "the driver's endpoint offers 1452 - 26");
      for (const p of r.packets) assert.ok(p.length <= 1500, `packet of ${p.length} bytes`);
      assert.ok(r.packets.some((p) => p.length === 20 + 20 + 12 + 1414), 'full segments: IPv4 + TCP + timestamps + 1414');
      assert.equal(r.driver.counters.sendErrors, 0);
    } finally {
      await r.close();
    }
  });

  it('counts drops by reason: not IP, foreign senders, other addresses; unreliable datagrams are not sent', async () => {
    const r = await rig();
    const stranger = createSocket('udp4');
    try {
      const driverPort = (r.driver as unknown as { socket: Socket }).socket.address().port;
      r.socat.send(Buffer.alloc(40, 0x50), driverPort, '127.0.0.1'); // IP version 5
      await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.1', () => resolve()));
      stranger.send(Buffer.from('hello'), driverPort, '127.0.0.1');
      // A valid TCP packet for an address that is not ours.
      const other = new Endpoint({ seed: 3 });
      other.connect(0, { address: '198.18.0.9', port: 1 }, { port: 80 });
      const syn = datagramToIp(other.pollTransmit(0)!.bytes, KERNEL, '198.18.0.9');
      assert.ok(syn.ok);
      r.socat.send(syn.value, driverPort, '127.0.0.1');
      await until(() => Object.values(r.driver.counters.drops).reduce((a, b) => a + b, 0) === 3);
      assert.deepEqual(r.driver.counters.drops, { 'ip-version': 1, 'foreign-sender': 1, 'not-our-address': 1 });

      const router = new ConnectionRouter(r.driver);
      let accepted: Connection | undefined;
      router.onAccept = (pipe) => (accepted = pipe.conn);
      r.driver.act(() => r.driver.endpoint.listen({ port: 9 }));
      const conn = r.kernel.connect(performance.now(), { address: US, port: KERNEL_UDP_PORT }, { port: 9 });
      kernelPump(r);
      await until(() => conn.state === 'ESTABLISHED' && accepted?.state === 'ESTABLISHED');
      r.driver.act(() => accepted!.sendDatagram(new Uint8Array([1, 2, 3])));
      assert.equal(r.driver.counters.unreliableNotSent, 1);
    } finally {
      stranger.close();
      await r.close();
    }
  });

  it('the seeded loss rule: the same seed drops the same packets; a lossy echo still completes exactly', async () => {
    const pattern = async (seed: number): Promise<string> => {
      const r = await rig({ loss: new SeededLoss({ inbound: 0.3, seed }) });
      try {
        const driverPort = (r.driver as unknown as { socket: Socket }).socket.address().port;
        const seen: string[] = [];
        for (let i = 0; i < 50; i++) {
          const before = r.driver.counters.lossDroppedIn;
          r.socat.send(Buffer.from([0]), driverPort, '127.0.0.1');
          await until(() => r.driver.counters.packetsIn === i + 1);
          seen.push(r.driver.counters.lossDroppedIn > before ? 'x' : '.');
        }
        return seen.join('');
      } finally {
        await r.close();
      }
    };
    const a = await pattern(42);
    assert.equal(await pattern(42), a);
    assert.notEqual(await pattern(43), a);
    assert.match(a, /x/);

    const r = await rig({ loss: new SeededLoss({ inbound: 0.05, outbound: 0.05, seed: 42 }) });
    try {
      const data = new RandomBytes(9, 100_000).next(100_000);
      const { back } = await echoThrough(r, data);
      assert.ok(Buffer.from(back).equals(Buffer.from(data)), "the echo matches");
      assert.ok(r.driver.counters.lossDroppedIn > 0 && r.driver.counters.lossDroppedOut > 0);
    } finally {
      await r.close();
    }
  });
});

describe('stevens tun helpers', () => {
  it('SeededLoss draws as the driver did: one draw per packet from Prng(seed) inbound, Prng(seed ^ 0x5bd1e995) outbound', () => {
    for (const seed of [1, 3, 16, 42]) {
      const rule = new SeededLoss({ inbound: 0.02, outbound: 0.3, seed });
      const inbound = new Prng(seed);
      const outbound = new Prng(seed ^ 0x5bd1e995);
      const packet = new Uint8Array(40);
      for (let i = 0; i < 5000; i++) {
        assert.equal(rule.dropInbound(packet), inbound.nextFloat() < 0.02);
        assert.equal(rule.dropOutbound(packet), outbound.nextFloat() < 0.3);
      }
    }
    const none = new SeededLoss({ seed: 1 });
    for (let i = 0; i < 100; i++) assert.ok(!none.dropInbound(new Uint8Array(1)) && !none.dropOutbound(new Uint8Array(1)));
  });

  it('parseBytes reads counts with k/M/G suffixes and rejects the rest', () => {
    assert.equal(parseBytes('1000', '--send'), 1000);
    assert.equal(parseBytes('64k', '--send'), 65536);
    assert.equal(parseBytes('20M', '--send'), 20 << 20);
    assert.equal(parseBytes('1GiB', '--send'), 1 << 30);
    assert.throws(() => parseBytes('1.5M', '--send'), /--send must be a byte count/);
    assert.throws(() => parseBytes('-1', '--send'), /--send must be a byte count/);
  });

  it('chargen lines follow RFC 864', () => {
    const text = new Chargen().next(2).toString('latin1');
    assert.equal(text.slice(0, 74), `${' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg'}\r\n`);
    assert.equal(text.slice(74, 75), '!');
  });

  it('bad arguments are one line and a non-zero exit, before anything is created', async () => {
    const run = promisify(execFile);
    const cli = 'dist/src/cli/main.js';
    const cases: [string[], RegExp][] = [
      [['tun', '--address', US, '--peer', KERNEL], /give exactly one of --serve SERVICE or --connect HOST:PORT/],
      [['tun', '--address', US, '--peer', KERNEL, '--serve', 'daytime'], /--serve must be echo, discard or chargen/],
      [['tun', '--address', US, '--peer', KERNEL, '--connect', `${KERNEL}:7`, '--send', 'lots'], /--send must be a byte count/],
      [['tun', '--address', US, '--peer', KERNEL, '--serve', 'echo', '--loss', '2'], /--loss must be a probability/],
      [['tun', '--address', US, '--peer', KERNEL, '--connect', '[fd00::1]:7'], /needs --address6 and --peer6/],
    ];
    for (const [args, re] of cases) {
      await assert.rejects(run(process.execPath, [cli, ...args]), (err: { code: number; stderr: string }) => {
        assert.notEqual(err.code, 0);
        assert.equal(err.stderr.trim().split('\n').length, 1, err.stderr);
        assert.match(err.stderr, re);
        return true;
      });
    }
  });
});
