// A game server: 20 Hz state snapshots as unreliable datagrams to every player, chat as reliable messages.
// `node dist/examples/game/server.js [port]`
import { createServer, MessageChannel, type Socket } from '../../src/node/index.js';

const port = Number(process.argv[2] ?? 7001);
const TICK_MS = 50;

interface Player {
  id: number;
  socket: Socket;
  chat: MessageChannel;
  x: number;
  y: number;
}

const players = new Map<number, Player>();
let nextId = 1;
let tick = 0;

const server = createServer({ profile: 'game' }, (socket) => {
  const player: Player = { id: nextId++, socket, chat: new MessageChannel(socket), x: 0, y: 0 };
  players.set(player.id, player);
  console.log(`player ${player.id} joined from ${socket.remoteAddress}:${socket.remotePort}`);
  // Inputs arrive as datagrams: a missed one is superseded by the next.
  socket.on('datagram', (d: Buffer) => {
    if (d.length >= 2) {
      player.x += d.readInt8(0);
      player.y += d.readInt8(1);
    }
  });
  player.chat.on('message', (m) => {
    const line = `player ${player.id}: ${m.toString()}`;
    console.log(line);
    for (const p of players.values()) p.chat.send(line);
  });
  player.chat.on('error', () => undefined);
  socket.on('end', () => socket.end());
  socket.on('close', () => {
    players.delete(player.id);
    console.log(`player ${player.id} left`);
  });
});

// The snapshot: tick number and every player's position; stale snapshots are simply replaced by newer ones.
const timer = setInterval(() => {
  tick++;
  const snap = Buffer.alloc(4 + players.size * 12);
  snap.writeUInt32BE(tick, 0);
  let o = 4;
  for (const p of players.values()) {
    snap.writeUInt32BE(p.id, o);
    snap.writeInt32BE(p.x, o + 4);
    snap.writeInt32BE(p.y, o + 8);
    o += 12;
  }
  for (const p of players.values()) if (snap.length <= p.socket.maxDatagramBytes) p.socket.sendDatagram(snap);
}, TICK_MS);

server.listen(port, '127.0.0.1', () => console.log(`game server on 127.0.0.1:${server.address()!.port}, ${1000 / TICK_MS} Hz`));
process.once('SIGINT', () => {
  clearInterval(timer);
  for (const p of players.values()) p.socket.end();
  server.close();
});
