// CRC-32 (the IEEE 802.3 / zlib polynomial, reflected, as in gzip and PNG) protecting every encapsulated datagram.
// UDP's own checksum is optional over IPv4 and the TCP checksum is carried as 0, so this is what catches corruption.
import { crc32 as zlibCrc32 } from 'node:zlib';

/** CRC-32 of bytes[start, end) as an unsigned 32-bit number. crc32(ASCII "123456789") is 0xCBF43926. */
export function crc32(bytes: Uint8Array, start = 0, end: number = bytes.length): number {
  const view = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  return zlibCrc32(view) >>> 0;
}
