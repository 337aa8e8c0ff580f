// A game client: connects with the connection strategy (names and literals, every address, random pick,
// rounds), sends inputs as datagrams, says hello in chat, prints what it sees, leaves after a few seconds.
// `node dist/examples/game/client.js [port] [seconds]`
import { connect, MessageChannel, type Attempt } from '../../src/node/index.js';

const port = Number(process.argv[2] ?? 7001);
const seconds = Number(process.argv[3] ?? 3);

const socket = connect({ servers: ['localhost', '127.0.0.1'], port, connectTimeoutMs: 2000, rounds: 2, profile: 'game' });
socket.on('attempt', (a: Attempt) => console.log(`attempt ${a.address ?? a.server}:${a.port ?? port} -> ${a.outcome} in ${a.durationMs.toFixed(1)} ms`));
socket.on('error', (err) => {
  console.error(`error: ${err.message}`);
  process.exitCode = 1;
});

socket.on('connect', () => {
  const chat = new MessageChannel(socket);
  chat.on('message', (m) => console.log(`chat: ${m.toString()}`));
  chat.send('hello from a stevens client');
  let snapshots = 0;
  let lastTick = 0;
  socket.on('datagram', (d: Buffer) => {
    snapshots++;
    lastTick = d.readUInt32BE(0);
  });
  const input = setInterval(() => socket.sendDatagram(Buffer.from([1, 0])), 50);
  setTimeout(() => {
    clearInterval(input);
    console.log(`${snapshots} snapshots in ${seconds} s (last tick ${lastTick}); rtt ${socket.stats()?.srttMs.toFixed(2)} ms`);
    socket.end();
  }, seconds * 1000);
});
