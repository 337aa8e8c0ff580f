// stevens as a host behind a TUN device, talking TCP to the kernel's own stack (see README: stevens tun).
export { TunDriver, KERNEL_UDP_PORT, type TunDriverOptions, type TunDriverCounters } from './driver.js';
export { TunHost, TunSetupError, preflight, canonicalIp, type TunHostOptions } from './host.js';
export { Pipe, ConnectionRouter, type PipeHandlers } from './pipe.js';
export { serveService, sendAndCheckEcho, RandomBytes, Chargen, SERVICE_PORTS, type ServiceName, type EchoCheckResult } from './services.js';
export { TunCapture, type PacketRecorder } from './pcap.js';
export { SeededLoss, type LossRule, type LossModel, type SeededLossOptions } from './loss.js';
