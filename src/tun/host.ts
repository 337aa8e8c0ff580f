// Sets up and tears down stevens as a host behind a TUN device in the current network namespace:
// checks (root, socat, ip, /dev/net/tun, loopback up, addresses free), the driver's UDP socket first, then socat
// (`TUN:<peer>/<prefix>,tun-type=tun,iff-no-pi,up,tun-name=<dev>` bridged with UDP-DATAGRAM to that socket), the
// IPv6 address on the device, and a check that the kernel routes our addresses into the device. close() ends
// socat (the device goes with it, being non-persistent) and makes sure the device is gone.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { bytesToIpv6, ipv4ToBytes, ipv6ToBytes } from '../ip/address.js';
import { which } from '../node/which.js';
import { TunDriver, type TunDriverOptions } from './driver.js';
import { SeededLoss } from './loss.js';
import { TunCapture, type PacketRecorder } from './pcap.js';

/** A setup problem with a one-line explanation (the CLI prints the message as is). */
export class TunSetupError extends Error {
  override name = 'TunSetupError';
}

export interface TunHostOptions extends Omit<TunDriverOptions, 'address' | 'address6' | 'recorder'> {
  /** stevens' IPv4 address (behind the device). */
  address: string;
  /** The kernel's IPv4 address: the device's own address. */
  peer: string;
  prefix?: number;
  address6?: string;
  peer6?: string;
  prefix6?: number;
  /**
   * Seeded loss (a SeededLoss the host builds; or give `loss`, any LossRule, instead): drop packets from the
   * kernel with this probability, before anything else looks at them...
   */
  lossInbound?: number;
  /** ... and packets to the kernel (the kernel's inbound loss), with a PRNG of their own. */
  lossOutbound?: number;
  /** Seed of the loss rule's PRNGs (default 1). */
  lossSeed?: number;
  /** Device name (at most 15 characters); default stv<pid><n>. */
  device?: string;
  /** Write a capture of the TUN side here (raw IP, link type 101). */
  pcapPath?: string;
  /** Log socat's notices (for debugging). */
  log?: (line: string) => void;
}

export interface TunHostEvents {
  /** socat ended while the host was open: the device is gone. */
  exit: [string];
}

let deviceCounter = 0;
const READY_TIMEOUT_MS = 5000;

/** The canonical text of an IP address (IPv6 compressed as RFC 5952 says), as the framing reports sources. */
export function canonicalIp(address: string): string {
  if (isIPv4(address)) return address;
  if (isIPv6(address)) return bytesToIpv6(ipv6ToBytes(address), 0);
  throw new TunSetupError(`not an IP address: '${address}'`);
}

function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const m = 0x80 >> (i & 7);
    if ((a[i >> 3]! & m) !== (b[i >> 3]! & m)) return false;
  }
  return true;
}

function ipJson(args: string[]): unknown {
  const r = spawnSync('ip', ['-j', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new TunSetupError(`ip ${args.join(' ')} failed: ${(r.stderr || '').trim().split('\n')[0]}`);
  return JSON.parse(r.stdout || '[]');
}

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new TunSetupError(`ip ${args.join(' ')} failed: ${(r.stderr || '').trim().split('\n')[0]}`);
}

interface IpAddrEntry {
  ifname: string;
  addr_info?: { local?: string }[];
}

/** Every check that can fail before anything is created; throws TunSetupError with one line. */
export function preflight(opts: Pick<TunHostOptions, 'address' | 'peer' | 'prefix' | 'address6' | 'peer6' | 'prefix6'>): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new TunSetupError('tun must run as root (it creates a TUN device and adds addresses): try sudo');
  }
  if (which('socat') === undefined) throw new TunSetupError('socat is not installed (it bridges the TUN device): apt-get install socat');
  if (which('ip') === undefined) throw new TunSetupError('ip (iproute2) is not installed: apt-get install iproute2');
  if (!existsSync('/dev/net/tun')) throw new TunSetupError('/dev/net/tun is missing: this kernel or container has no TUN support');
  const prefix = opts.prefix ?? 24;
  if (!isIPv4(opts.address)) throw new TunSetupError(`--address must be an IPv4 address, got '${opts.address}'`);
  if (!isIPv4(opts.peer)) throw new TunSetupError(`--peer must be an IPv4 address, got '${opts.peer}'`);
  if (opts.address === opts.peer) throw new TunSetupError('--address and --peer must differ');
  if (!Number.isInteger(prefix) || prefix < 1 || prefix > 31) throw new TunSetupError(`--prefix must be an integer in [1, 31], got '${prefix}'`);
  if (!samePrefix(ipv4ToBytes(opts.address), ipv4ToBytes(opts.peer), prefix)) {
    throw new TunSetupError(`--address ${opts.address} is not in the device's network ${opts.peer}/${prefix}`);
  }
  const mine = [opts.address, opts.peer];
  if ((opts.address6 === undefined) !== (opts.peer6 === undefined)) throw new TunSetupError('--address6 and --peer6 go together');
  if (opts.address6 !== undefined && opts.peer6 !== undefined) {
    const prefix6 = opts.prefix6 ?? 64;
    if (!isIPv6(opts.address6)) throw new TunSetupError(`--address6 must be an IPv6 address, got '${opts.address6}'`);
    if (!isIPv6(opts.peer6)) throw new TunSetupError(`--peer6 must be an IPv6 address, got '${opts.peer6}'`);
    if (canonicalIp(opts.address6) === canonicalIp(opts.peer6)) throw new TunSetupError('--address6 and --peer6 must differ');
    if (!Number.isInteger(prefix6) || prefix6 < 1 || prefix6 > 127) throw new TunSetupError(`--prefix6 must be an integer in [1, 127], got '${prefix6}'`);
    if (!samePrefix(ipv6ToBytes(opts.address6), ipv6ToBytes(opts.peer6), prefix6)) {
      throw new TunSetupError(`--address6 ${opts.address6} is not in the device's network ${opts.peer6}/${prefix6}`);
    }
    mine.push(canonicalIp(opts.address6), canonicalIp(opts.peer6));
  }
  const links = ipJson(['link', 'show', 'dev', 'lo']) as { flags?: string[] }[];
  if (!links[0]?.flags?.includes('UP')) throw new TunSetupError('the loopback interface is down in this network namespace (socat talks to stevens over it): ip link set lo up');
  for (const entry of ipJson(['addr', 'show']) as IpAddrEntry[]) {
    for (const a of entry.addr_info ?? []) {
      if (a.local === undefined) continue;
      const local = isIPv6(a.local) ? canonicalIp(a.local) : a.local;
      if (mine.includes(local)) throw new TunSetupError(`address ${local} is already in use on interface ${entry.ifname} in this network namespace`);
    }
  }
}

async function freeLoopbackPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve());
  });
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function deviceExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

export class TunHost extends EventEmitter<TunHostEvents> {
  readonly driver: TunDriver;
  readonly device: string;
  readonly address: string;
  readonly peer: string;
  readonly address6: string | undefined;
  readonly peer6: string | undefined;
  private socat: ChildProcess | undefined;
  private socatErrors: string[] = [];
  private readonly recorder: PacketRecorder | undefined;
  private closing = false;
  private closedPromise: Promise<void> | undefined;

  private constructor(driver: TunDriver, device: string, opts: TunHostOptions, recorder: PacketRecorder | undefined) {
    super();
    this.driver = driver;
    this.device = device;
    this.address = opts.address;
    this.peer = opts.peer;
    this.address6 = opts.address6 === undefined ? undefined : canonicalIp(opts.address6);
    this.peer6 = opts.peer6 === undefined ? undefined : canonicalIp(opts.peer6);
    this.recorder = recorder;
  }

  /** Check, create the device and bridge; on any failure everything created so far is removed. */
  static async open(opts: TunHostOptions): Promise<TunHost> {
    preflight(opts);
    const device = opts.device ?? `stv${process.pid.toString(36)}${(deviceCounter++).toString(36)}`;
    if (device.length > 15 || !/^[A-Za-z0-9_.-]+$/.test(device)) throw new TunSetupError(`device name '${device}' must be 1-15 letters, digits, '_', '.' or '-'`);
    if (deviceExists(device)) throw new TunSetupError(`a network interface named ${device} already exists`);
    const { address: _a, peer: _p, prefix: _x, address6: _a6, peer6: _p6, prefix6: _x6, device: _d, pcapPath, log: _l, lossInbound, lossOutbound, lossSeed, ...driverOpts } = opts;
    const seeded = lossInbound !== undefined || lossOutbound !== undefined;
    if (seeded && opts.loss !== undefined) throw new TypeError('give loss (a LossRule) or lossInbound/lossOutbound, not both');
    const recorder = pcapPath === undefined ? undefined : openRecorder(pcapPath, device);
    const driver = new TunDriver({
      ...driverOpts,
      address: opts.address,
      address6: opts.address6 === undefined ? undefined : canonicalIp(opts.address6),
      loss: seeded ? new SeededLoss({ inbound: lossInbound, outbound: lossOutbound, seed: lossSeed }) : opts.loss,
      recorder,
    });
    const host = new TunHost(driver, device, opts, recorder);
    try {
      // The driver's socket exists before socat, so socat's first packets find it (no ICMP error).
      const driverPort = await driver.bind();
      await host.startSocat(opts, driverPort);
      if (host.peer6 !== undefined) ip(['-6', 'addr', 'add', `${host.peer6}/${opts.prefix6 ?? 64}`, 'dev', device, 'nodad']);
      host.checkRoute(opts.address);
      if (host.address6 !== undefined) host.checkRoute(host.address6);
    } catch (err) {
      await host.close();
      throw err;
    }
    return host;
  }

  private async startSocat(opts: TunHostOptions, driverPort: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const socatPort = await freeLoopbackPort();
      const args = [
        '-d',
        '-d',
        '-b',
        '65536',
        `TUN:${opts.peer}/${opts.prefix ?? 24},tun-type=tun,iff-no-pi,up,tun-name=${this.device}`,
        `UDP-DATAGRAM:127.0.0.1:${driverPort},bind=127.0.0.1:${socatPort},rcvbuf=4194304,sndbuf=4194304`,
      ];
      // setpriv --pdeathsig: socat ends with us even if we are killed outright (the device goes with it).
      // detached: socat gets its own process group, so a Ctrl-C on the terminal (SIGINT to the foreground group)
      // reaches only us, and socat keeps forwarding until close() has sent the last packets (RSTs) through it.
      const spawnOpts = { stdio: ['ignore', 'ignore', 'pipe'] as ('ignore' | 'pipe')[], detached: true };
      const child = which('setpriv') !== undefined ? spawn('setpriv', ['--pdeathsig', 'TERM', 'socat', ...args], spawnOpts) : spawn('socat', args, spawnOpts);
      this.socat = child;
      this.socatErrors = [];
      const ready = await new Promise<boolean>((resolve) => {
        let buffered = '';
        let done = false;
        const finish = (ok: boolean) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          resolve(ok);
        };
        const timer = setTimeout(() => finish(false), READY_TIMEOUT_MS);
        child.stderr!.setEncoding('utf8');
        child.stderr!.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            opts.log?.(line);
            if (/ [EF] /.test(line)) this.socatErrors.push(line.replace(/^.*? [EF] /, ''));
            if (line.includes('starting data transfer loop')) finish(true);
          }
        });
        child.once('exit', () => finish(false));
        child.once('error', () => finish(false));
      });
      if (ready) {
        this.driver.setSocatPort(socatPort);
        child.once('exit', (code, signal) => {
          if (this.closing) return;
          this.emit('exit', `socat exited unexpectedly (${signal ?? `code ${code}`})${this.socatErrors.length ? `: ${this.socatErrors[this.socatErrors.length - 1]}` : ''}`);
        });
        return;
      }
      await this.stopSocat();
      const why = this.socatErrors[this.socatErrors.length - 1] ?? 'no answer within 5 s';
      if (/Address already in use/i.test(why) && attempt < 3) continue;
      throw new TunSetupError(`socat could not create the TUN device ${this.device}: ${why}`);
    }
  }

  /** Our address for talking to `remote` (the same family). */
  sourceAddressFor(remote: string): string {
    return (remote.includes(':') ? this.address6 : this.address) ?? this.address;
  }

  /** The kernel must send packets for `address` into our device, not somewhere else. */
  private checkRoute(address: string): void {
    const routes = ipJson(['route', 'get', address]) as { dev?: string }[];
    const dev = routes[0]?.dev;
    if (dev !== this.device) throw new TunSetupError(`the kernel routes ${address} via ${dev ?? 'nothing'}, not ${this.device}: is another interface on this network?`);
  }

  private async stopSocat(): Promise<void> {
    const child = this.socat;
    this.socat = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }

  /** Close the driver, end socat, remove the device if it is still there, close the capture. Idempotent. */
  close(): Promise<void> {
    this.closedPromise ??= (async () => {
      this.closing = true;
      // The driver first: its last sends (RSTs of aborted connections) reach socat before socat ends.
      await this.driver.close();
      if (this.socat !== undefined) await new Promise((r) => setTimeout(r, 50));
      await this.stopSocat();
      // A non-persistent TUN device disappears when socat closes it; give the kernel a moment, then insist.
      for (let i = 0; i < 50 && deviceExists(this.device); i++) await new Promise((r) => setTimeout(r, 20));
      if (deviceExists(this.device)) spawnSync('ip', ['link', 'del', 'dev', this.device], { stdio: 'ignore' });
      this.recorder?.close();
    })();
    return this.closedPromise;
  }
}

function openRecorder(path: string, device: string): PacketRecorder {
  try {
    return new TunCapture(path, device);
  } catch (err) {
    throw new TunSetupError(`cannot write the capture ${path}: ${(err as Error).message}`);
  }
}
