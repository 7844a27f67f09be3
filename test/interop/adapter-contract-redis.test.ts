/** The adapter contract against a real redis-server (fails, never skips, without it). */
import { RedisAdapter } from '../../src/realtime/index.js';
import { adapterContract } from '../realtime/adapter-contract.js';
import { startRedis } from './redis-fixture.js';

adapterContract('redis (built-in client)', async () => {
  const redis = await startRedis();
  return {
    adapter: (scope) => new RedisAdapter({ port: redis.port, prefix: `${scope}:` }),
    close: () => redis.stop(),
  };
});
