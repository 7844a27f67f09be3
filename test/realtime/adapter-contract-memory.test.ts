import { MemoryAdapter } from '../../src/realtime/index.js';
import { adapterContract } from './adapter-contract.js';

const hubs = new Map<string, MemoryAdapter>();
adapterContract('memory', async () => ({
  adapter(scope) {
    let hub = hubs.get(scope);
    if (hub === undefined) hubs.set(scope, (hub = new MemoryAdapter()));
    return hub;
  },
}));
