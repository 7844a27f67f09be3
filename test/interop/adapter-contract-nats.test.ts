/** The adapter contract against a real nats-server with JetStream (fails, never skips, without it). */
import { NatsAdapter } from '../../src/realtime/index.js';
import { adapterContract } from '../realtime/adapter-contract.js';
import { startNats } from './nats-fixture.js';

adapterContract('nats', async () => {
  const nats = await startNats();
  return {
    adapter: (scope) => new NatsAdapter({ connect: { servers: nats.url }, prefix: scope, storage: 'memory' }),
    close: () => nats.stop(),
  };
});
