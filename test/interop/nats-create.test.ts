/**
 * Stream and bucket creation when several NATS nodes do it at once (src/realtime/adapters/
 * nats-create.ts): the rules of createOrUse, then many nodes of one prefix starting together
 * against a real nats-server (fails, never skips, without it).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NatsAdapter } from '../../src/realtime/index.js';
import { createOrUse, isCreateRace, whenListening } from '../../src/realtime/adapters/nats-create.js';
import { RecordingNode } from '../realtime/adapter-contract.js';
import { startNats, type NatsInstance } from './nats-fixture.js';

/** The shape of the error nats.js gives for a JetStream API error. */
function apiError(code: number, description: string): Error {
  return Object.assign(new Error(description), { api_error: { code: 400, err_code: code, description } });
}

describe('createOrUse', () => {
  test('a lost race ("subjects overlap", "already in use") uses what the lookup finds', async () => {
    for (const err of [apiError(10065, 'subjects overlap with an existing stream'), apiError(10058, 'stream name already in use with a different configuration')]) {
      assert.equal(isCreateRace(err), true);
      let creates = 0;
      const got = await createOrUse(async () => {
        creates++;
        throw err;
      }, async () => 'theirs');
      assert.equal(got, 'theirs');
      assert.equal(creates, 1);
    }
  });

  test('when the lookup finds nothing (deleted meanwhile), it creates again, a bounded number of times', async () => {
    let creates = 0;
    const got = await createOrUse(async () => {
      if (++creates < 3) throw apiError(10065, 'subjects overlap with an existing stream');
      return 'mine';
    }, async () => null);
    assert.equal(got, 'mine');
    assert.equal(creates, 3);
    creates = 0;
    await assert.rejects(
      createOrUse(async () => {
        creates++;
        throw apiError(10065, 'subjects overlap with an existing stream');
      }, async () => null, 4),
      /subjects overlap/,
    );
    assert.equal(creates, 4);
  });

  test('any other error is thrown at once, without a lookup', async () => {
    let lookups = 0;
    await assert.rejects(
      createOrUse(async () => {
        throw apiError(10047, 'insufficient storage resources available');
      }, async () => {
        lookups++;
        return 'x';
      }),
      /insufficient storage/,
    );
    assert.equal(lookups, 0);
  });
});

describe('whenListening', () => {
  test('a write answered 503 (no responders) is tried again, a bounded number of times; other errors at once', async () => {
    const noResponders = () => Object.assign(new Error('503'), { code: '503' });
    let writes = 0;
    assert.equal(await whenListening(async () => (++writes < 3 ? Promise.reject(noResponders()) : 'stored')), 'stored');
    assert.equal(writes, 3);
    writes = 0;
    await assert.rejects(whenListening(async () => (writes++, Promise.reject(noResponders())), 4), /503/);
    assert.equal(writes, 4);
    writes = 0;
    await assert.rejects(whenListening(async () => (writes++, Promise.reject(new Error('TIMEOUT')))), /TIMEOUT/);
    assert.equal(writes, 1);
  });
});

describe('NATS nodes starting together', { timeout: 60_000 }, () => {
  let nats: NatsInstance;
  before(async () => {
    nats = await startNats();
  });
  after(async () => {
    await nats?.stop();
  });

  test('eight nodes of one prefix, started at once several times, all connect and share presence and one topic stream', async () => {
    for (let round = 0; round < 3; round++) {
      const adapter = new NatsAdapter({ connect: { servers: nats.url }, prefix: `race${process.pid}x${round}`, storage: 'file' });
      const links = Array.from({ length: 8 }, () => {
        const node = new RecordingNode();
        return { node, link: adapter.attach(node) };
      });
      try {
        // Every node creates the buckets and the topic's stream at the same moment.
        await Promise.all(links.map(({ link }, i) => link.presenceJoin('room', { sessionId: `s${i}`, info: null })));
        const results = await Promise.all(links.map(({ link }, i) => link.publish('room', i, { mode: 'reliable', historySize: 100, historyTtl: 60_000, presence: true })));
        assert.equal(new Set(results.map((r) => r.epoch)).size, 1, 'one stream, one epoch');
        assert.deepEqual(results.map((r) => r.offset).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert.deepEqual((await links[0]!.link.presence('room')).map((m) => m.sessionId), ['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7']);
        assert.ok(links.every(({ link }) => link.connected));
      } finally {
        await Promise.all(links.map(({ link }) => link.close()));
      }
    }
  });
});
