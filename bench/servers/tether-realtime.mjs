// Tether's realtime layer under benchmark: subscribers Connect and Subscribe to one topic, the
// publisher's client publishes (Msg.Publish, allowed by authorize.publish) and the server fans
// each publication out to every subscriber; requests to the method "echo" are answered with
// their data. Topics keep the defaults (reliable, a history of 1000 messages for 5 minutes, no
// presence): the history ring is part of the measured path. The codec is whatever the client
// negotiates (tether.v1.json or tether.v1.msgpack).
//
// The environment picks the adapter and the extras (several nodes share one broker):
//   TETHER_BENCH_REDIS_PORT   RedisAdapter on that 127.0.0.1 port, with
//   TETHER_BENCH_REDIS_CLIENT    '' the built-in client, 'ioredis' or 'node-redis' (passed as `client`)
//   TETHER_BENCH_NATS_URL     NatsAdapter on that server (JetStream memory storage)
//   TETHER_BENCH_WORKERS      N > 1: node:cluster workers sharing the port, ClusterHub in the
//                             primary and ClusterAdapter in each worker (what --workers N runs)
//   TETHER_BENCH_METRICS      1: a Metrics instance (event-loop monitor) serving /metrics
// otherwise one process with its own MemoryAdapter.
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { ClusterAdapter, ClusterHub, Metrics, NatsAdapter, RealtimeServer, RedisAdapter } from '../../dist/src/realtime/index.js';

const port = Number(process.argv[2]);
const env = process.env;
const workers = Number(env.TETHER_BENCH_WORKERS) || 1;

if (workers > 1 && cluster.isPrimary) {
  new ClusterHub();
  let ready = 0;
  cluster.on('message', (_w, m) => {
    if (m === 'bench-ready' && ++ready === workers) console.log('ready');
  });
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  const rt = new RealtimeServer({
    ...(await adapter()),
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
  rt.handle('echo', (data) => data);
  const metrics = env.TETHER_BENCH_METRICS === '1' ? new Metrics(rt) : null;
  const http = createServer((req, res) => {
    if (metrics?.handle(req, res)) return;
    res.statusCode = 404;
    res.end();
  });
  rt.attach(http);
  await new Promise((resolve) => http.listen(port, '127.0.0.1', resolve));
  if (cluster.isWorker) process.send('bench-ready');
  else console.log('ready');
}

async function adapter() {
  if (workers > 1) return { adapter: new ClusterAdapter() };
  if (env.TETHER_BENCH_NATS_URL) return { adapter: new NatsAdapter({ connect: { servers: env.TETHER_BENCH_NATS_URL }, storage: 'memory' }) };
  const redisPort = Number(env.TETHER_BENCH_REDIS_PORT) || 0;
  if (!redisPort) return {};
  if (env.TETHER_BENCH_REDIS_CLIENT === 'ioredis') {
    const { Redis } = await import('ioredis');
    return { adapter: new RedisAdapter({ client: new Redis({ port: redisPort, host: '127.0.0.1' }) }) };
  }
  if (env.TETHER_BENCH_REDIS_CLIENT === 'node-redis') {
    const { createClient } = await import('redis');
    const client = createClient({ socket: { port: redisPort, host: '127.0.0.1' } });
    await client.connect();
    return { adapter: new RedisAdapter({ client }) };
  }
  return { adapter: new RedisAdapter({ port: redisPort }) };
}
