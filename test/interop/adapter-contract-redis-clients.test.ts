/**
 * The adapter contract through the applications' own Redis clients: ioredis and node-redis
 * against a redis-server with requirepass, and ioredis and node-redis (createCluster) against
 * a Redis Cluster of three masters started here.
 */
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { RedisAdapter } from '../../src/realtime/index.js';
import { adapterContract } from '../realtime/adapter-contract.js';
import { startRedisCluster, startRedisWithPassword } from './redis-servers.js';

const PASSWORD = 's3cret pass';

adapterContract('redis through ioredis, with requirepass', async () => {
  const redis = await startRedisWithPassword(PASSWORD);
  const client = new Redis({ port: redis.port, host: '127.0.0.1', password: PASSWORD, lazyConnect: false });
  return {
    adapter: (scope) => new RedisAdapter({ client, prefix: `${scope}:` }),
    close: async () => {
      client.disconnect();
      await redis.stop();
    },
  };
});

adapterContract('redis through node-redis, with requirepass', async () => {
  const redis = await startRedisWithPassword(PASSWORD);
  const client = createClient({ socket: { port: redis.port, host: '127.0.0.1' }, password: PASSWORD });
  client.on('error', () => {});
  await client.connect();
  return {
    adapter: (scope) => new RedisAdapter({ client, prefix: `${scope}:` }),
    close: async () => {
      client.destroy();
      await redis.stop();
    },
  };
});

adapterContract('redis cluster of 3 masters through ioredis', async () => {
  const cluster = await startRedisCluster();
  const client = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
  return {
    adapter: (scope) => new RedisAdapter({ client, prefix: `${scope}:` }),
    close: async () => {
      client.disconnect();
      await cluster.stop();
    },
  };
});

adapterContract('redis cluster of 3 masters through node-redis createCluster', async () => {
  const cluster = await startRedisCluster();
  const client = createCluster({ rootNodes: cluster.ports.map((port) => ({ socket: { host: '127.0.0.1', port } })) });
  client.on('error', () => {});
  await client.connect();
  return {
    adapter: (scope) => new RedisAdapter({ client, prefix: `${scope}:` }),
    close: async () => {
      client.destroy();
      await cluster.stop();
    },
  };
});
