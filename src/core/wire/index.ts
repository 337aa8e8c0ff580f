// The wire codec: TCP segments and unreliable datagrams in and out of UDP payloads.
export * from './segment.js';
export * from './crc.js';
export * from './tcp-options.js';
export * from './tcp-header.js';
export * from './encapsulation.js';
