// Helper process for faults.test.ts: connects, reads a little, tells the parent, then waits to be killed.
import { connect } from '../../src/node/index.js';

const socket = connect({ host: '127.0.0.1', port: Number(process.argv[2]) });
let told = false;
socket.on('data', () => {
  if (!told) {
    told = true;
    process.send!('reading');
    // Stop reading: the server's data piles up, then the process dies.
    socket.pause();
  }
});
socket.on('error', () => undefined);
