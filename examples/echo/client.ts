// An echo client: `node dist/examples/echo/client.js [port] [message]` sends the message and prints the echo.
import { connect } from '../../src/node/index.js';

const port = Number(process.argv[2] ?? 7000);
const text = process.argv[3] ?? 'hello, stevens';
const socket = connect({ host: '127.0.0.1', port }, () => socket.end(text));
let echoed = '';
socket.on('data', (d: Buffer) => (echoed += d.toString()));
socket.on('end', () => console.log(`echo: ${echoed}`));
socket.on('error', (err) => {
  console.error(`error: ${err.message}`);
  process.exitCode = 1;
});
