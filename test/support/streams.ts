// Helpers for tests of the node:net-like Socket.
import type { Socket } from '../../src/node/index.js';

/** Collect everything a readable side delivers, until 'end'. */
export function drain(s: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  return new Promise((resolve, reject) => {
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('error', reject);
  });
}
