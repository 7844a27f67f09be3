// socket.io 4 under benchmark (websocket transport only): rooms for broadcast, an echo event.
import { Server } from 'socket.io';
const port = Number(process.argv[2]);
const io = new Server(port, { transports: ['websocket'], serveClient: false, maxHttpBufferSize: 64 * 1024 * 1024 });
io.on('connection', (socket) => {
  socket.on('join', (room) => socket.join(room));
  socket.on('pub', (data) => io.to('bench').emit('m', data));
  socket.on('echo', (data) => socket.emit('echo', data));
});
io.httpServer.on('listening', () => console.log('ready'));
