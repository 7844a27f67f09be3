// socket.io 4 with @socket.io/redis-adapter (node-redis clients, as its documentation sets it
// up) on the redis-server at 127.0.0.1:TETHER_BENCH_REDIS_PORT: several of these processes are
// one socket.io cluster; io.to(room).emit reaches the room's sockets on every node.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';

const port = Number(process.argv[2]);
const redisPort = Number(process.env.TETHER_BENCH_REDIS_PORT);
if (!redisPort) throw new Error('TETHER_BENCH_REDIS_PORT is required');
const pubClient = createClient({ socket: { port: redisPort, host: '127.0.0.1' } });
const subClient = pubClient.duplicate();
await Promise.all([pubClient.connect(), subClient.connect()]);
const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false, maxHttpBufferSize: 64 * 1024 * 1024, adapter: createAdapter(pubClient, subClient) });
io.on('connection', (socket) => {
  socket.on('join', (room) => socket.join(room));
  socket.on('pub', (data) => io.to('bench').emit('m', data));
});
http.listen(port, '127.0.0.1', () => console.log('ready'));
