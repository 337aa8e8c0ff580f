// Deterministic record and replay of a stevens Endpoint: a versioned, block-checksummed, compressed log of every
// input and a digest of every output (format.ts, described in README.md), written by a recorder that wraps any
// endpoint (recorder.ts, writer.ts, ring.ts for always-on bounded recording), read back (reader.ts) and
// re-executed with every output checked (replayer.ts).
export { RecordingEndpoint, recordingEndpoint, type RecorderOptions, type RecordOption, type RecordingStats } from './recorder.js';
export { LogWriter, BufferSink, FileSink, type LogSink, type WriterOptions } from './writer.js';
export { RingSink, ringFiles, type RingOptions } from './ring.js';
export { LogReader, type Truncation, type BlockInfo } from './reader.js';
export {
  Replayer,
  formatDivergence,
  describeTransmit,
  describeDatagram,
  flagNames,
  firstDifference,
  type ReplayOptions,
  type ReplayResult,
  type ReplayStatus,
  type ReplaySnapshot,
  type Divergence,
} from './replayer.js';
export { LogFormatError, K as RecordKind, KIND_NAMES, FORMAT_VERSION, FILE_EXTENSION, describeRecord, fmtMs, fmtRemote, type LogHeader, type LogRecord } from './format.js';
