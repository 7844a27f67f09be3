// Tether's realtime layer under benchmark: subscribers Connect and Subscribe to one topic, the
// publisher's client publishes (Msg.Publish, allowed by authorize.publish) and the server fans
// each publication out to every subscriber. Topics keep the defaults (reliable, a history of
// 1000 messages for 5 minutes, no presence): the history ring is part of the measured path.
// The codec is whatever the client negotiates (tether.v1.json or tether.v1.msgpack).
import { RealtimeServer } from '../../dist/src/realtime/index.js';
const port = Number(process.argv[2]);
const rt = new RealtimeServer({
  authenticate: (token) => ({ user: token }),
  authorize: { publish: () => true },
  websocket: {
    heartbeatInterval: 0,
    maxBackpressure: 4 * 1024 * 1024,
    backpressurePolicy: 'drop',
    perMessageDeflate: false,
  },
});
await rt.listen(port, '127.0.0.1');
console.log('ready');
