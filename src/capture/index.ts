// stevens captures: pcapng writing and reading, the TCP and UDP views of stevens datagrams, JSON-lines traces,
// and the hooks that record the Node driver and the simulator.
export { PcapngWriter, MemorySink, toNanoseconds, type CaptureSink, type InterfaceOptions, type CaptureTime } from './pcapng.js';
export { readCapture, readPcapng, readPcap, CaptureFormatError, type CaptureFile, type CaptureInterface, type CapturedPacket } from './read.js';
export { tcpView, udpView, viewPacket, LINKTYPE_RAW, type CaptureView } from './views.js';
export { CaptureRecorder, type RecorderOptions } from './recorder.js';
export { SimCapture, type SimCaptureOptions, type SimPacketEvent } from './sim.js';
export { NodeCapture, captureNowNs, sourceAddressFor, type CaptureOptions } from './node.js';
export { dissectCapture, endpointLabel, parseIp, type CapturedSegment, type DissectedCapture, type SegmentEndpoint, type UnreliableDatagram } from './dissect.js';
export { traceToJsonl, traceLine, jsonlTraceHook, readTraceJsonl, TraceFormatError, type TraceRecord } from './trace.js';
export { internetChecksum, addressBytes, formatAddress, parseIpv4, parseIpv6, transportChecksumOk } from './ip.js';
