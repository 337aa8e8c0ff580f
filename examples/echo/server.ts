// An echo server on stevens: `node dist/examples/echo/server.js [port]`.
import { createServer } from '../../src/node/index.js';

const port = Number(process.argv[2] ?? 7000);
const server = createServer((socket) => {
  console.log(`connection from ${socket.remoteAddress}:${socket.remotePort}`);
  socket.on('error', (err: NodeJS.ErrnoException) => console.log(`${socket.remoteAddress}:${socket.remotePort} ${err.code ?? err.message}`));
  socket.pipe(socket);
});
server.listen(port, '127.0.0.1', () => console.log(`echo server on 127.0.0.1:${server.address()!.port}`));
process.once('SIGINT', () => server.close());
