// Tether's realtime layer under benchmark: subscribers Connect and Subscribe to one topic, the
// publisher's client publishes (Msg.Publish, allowed by authorize.publish) and the server fans
// each publication out to every subscriber. Topics keep the defaults (reliable, a history of
// 1000 messages for 5 minutes, no presence): the history ring is part of the measured path.
// The codec is whatever the client negotiates (tether.v1.json or tether.v1.msgpack).
// With TETHER_BENCH_REDIS_PORT set, the node uses a RedisAdapter on that 127.0.0.1 port (several
// nodes sharing one redis-server); otherwise its own MemoryAdapter.
import { RealtimeServer, RedisAdapter } from '../../dist/src/realtime/index.js';
const port = Number(process.argv[2]);
const redisPort = Number(process.env.TETHER_BENCH_REDIS_PORT) || 0;
const rt = new RealtimeServer({
  ...(redisPort ? { adapter: new RedisAdapter({ port: redisPort }) } : {}),
  authenticate: (token) => ({ user: token }),
  authorize: { publish: () => true },
  // The publisher's client publishes far more than the default per-session rate limit allows.
  rateLimit: false,
  websocket: {
    heartbeatInterval: 0,
    maxBackpressure: 4 * 1024 * 1024,
    backpressurePolicy: 'drop',
    perMessageDeflate: false,
  },
});
await rt.listen(port, '127.0.0.1');
console.log('ready');
