/**
 * The minimal Redis client (RESP2) against a real redis-server started by the fixture, plus
 * property tests of its parser fed arbitrarily chunked byte streams. redis-server must be
 * installed at /usr/bin/redis-server: without it every server test here fails.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import fc from 'fast-check';
import { RespClient, RespError, RespParser, type RespValue } from '../../src/realtime/adapters/resp-client.js';
import { within } from '../helpers.js';
import { Cleanup, Inbox, patternBytes } from './interop-util.js';
import { startRedis, type RedisInstance } from './redis-fixture.js';

fc.configureGlobal({ seed: Number(process.env['FC_SEED'] ?? 20261125) });
const STEP = 5000;

// ---- parser, without sockets ----

/** A generated reply: what goes on the wire, and what the parser must return for it. */
type Gen =
  | { t: 'simple'; s: string }
  | { t: 'error'; s: string }
  | { t: 'int'; n: number }
  | { t: 'bulk'; b: Buffer }
  | { t: 'nullbulk' }
  | { t: 'nullarr' }
  | { t: 'arr'; items: Gen[] };

const line = fc.string({ unit: 'binary', maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, '_'));
const { reply } = fc.letrec<{ reply: Gen; leaf: Gen }>((tie) => ({
  leaf: fc.oneof(
    line.map((s): Gen => ({ t: 'simple', s })),
    line.map((s): Gen => ({ t: 'error', s })),
    fc.maxSafeInteger().map((n): Gen => ({ t: 'int', n })),
    fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.constant(Buffer.from('a\r\nb\r\n')), fc.uint8Array({ minLength: 300, maxLength: 3000 })).map((b): Gen => ({ t: 'bulk', b: Buffer.from(b) })),
    fc.constant<Gen>({ t: 'nullbulk' }),
    fc.constant<Gen>({ t: 'nullarr' }),
  ),
  reply: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), fc.array(tie('reply'), { maxLength: 5 }).map((items): Gen => ({ t: 'arr', items }))),
}));

function encode(g: Gen): Buffer {
  switch (g.t) {
    case 'simple': return Buffer.from(`+${g.s}\r\n`);
    case 'error': return Buffer.from(`-${g.s}\r\n`);
    case 'int': return Buffer.from(`:${g.n}\r\n`);
    case 'bulk': return Buffer.concat([Buffer.from(`$${g.b.length}\r\n`), g.b, Buffer.from('\r\n')]);
    case 'nullbulk': return Buffer.from('$-1\r\n');
    case 'nullarr': return Buffer.from('*-1\r\n');
    case 'arr': return Buffer.concat([Buffer.from(`*${g.items.length}\r\n`), ...g.items.map(encode)]);
  }
}

type Decoded = RespValue | { error: string };
/** The expected result: an error anywhere inside an array stands for the whole reply (the first one in wire order). */
function expected(g: Gen): Decoded {
  const firstError = (x: Gen): string | undefined => (x.t === 'error' ? x.s : x.t === 'arr' ? x.items.map(firstError).find((e) => e !== undefined) : undefined);
  const value = (x: Gen): RespValue => {
    switch (x.t) {
      case 'simple': return x.s;
      case 'int': return x.n;
      case 'bulk': return x.b;
      case 'arr': return x.items.map(value);
      default: return null;
    }
  };
  const err = firstError(g);
  return err !== undefined ? { error: err } : value(g);
}

const normalize = (v: RespValue | RespError): Decoded => (v instanceof RespError ? { error: v.message } : v);

function feed(bytes: Buffer, cuts: number[]): Decoded[] {
  const parser = new RespParser();
  const out: Decoded[] = [];
  let from = 0;
  for (const at of [...cuts, bytes.length]) {
    out.push(...parser.push(bytes.subarray(from, at)).map(normalize));
    from = at;
  }
  return out;
}

describe('RespParser', () => {
  test('decodes any sequence of replies split at any points', () => {
    fc.assert(
      fc.property(fc.array(reply, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 30 }), (replies, rawCuts) => {
        const bytes = Buffer.concat(replies.map(encode));
        const cuts = [...new Set(rawCuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        assert.deepStrictEqual(feed(bytes, cuts), replies.map(expected));
      }),
      { numRuns: 400 },
    );
  });

  test('byte by byte, and all at once', () => {
    const bytes = Buffer.from('+OK\r\n:-42\r\n$5\r\na\r\nb\r\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n*2\r\n*1\r\n:1\r\n$1\r\nx\r\n-ERR boom\r\n');
    const want: Decoded[] = ['OK', -42, Buffer.from('a\r\nb\r'), Buffer.alloc(0), null, null, [], [[1], Buffer.from('x')], { error: 'ERR boom' }];
    assert.deepStrictEqual(feed(bytes, []), want);
    assert.deepStrictEqual(feed(bytes, Array.from({ length: bytes.length }, (_, i) => i)), want);
  });

  test('a 20 MB bulk string in 1 KB chunks is decoded in linear time', () => {
    const value = patternBytes(20 * 1024 * 1024);
    const bytes = Buffer.concat([Buffer.from(`*2\r\n$${value.length}\r\n`), value, Buffer.from('\r\n:7\r\n')]);
    const parser = new RespParser();
    const out: Array<RespValue | RespError> = [];
    const t0 = performance.now();
    for (let i = 0; i < bytes.length; i += 1024) out.push(...parser.push(bytes.subarray(i, i + 1024)));
    const ms = performance.now() - t0;
    assert.equal(out.length, 1);
    const [got, seven] = out[0] as [Buffer, number];
    assert.ok(got.equals(value), 'bulk value differs');
    assert.equal(seven, 7);
    assert.ok(ms < 3000, `took ${ms.toFixed(0)} ms (quadratic copying?)`);
  });

  test('malformed input throws', () => {
    for (const bad of ['?x\r\n', ':12a\r\n', '$-2\r\n', '*-5\r\n', '$3\r\nabcXY', ':\r\n']) {
      assert.throws(() => new RespParser().push(Buffer.from(bad)), /redis protocol error/, bad);
    }
  });
});

// ---- against a real redis-server ----

describe('RespClient against redis-server', () => {
  let redis: RedisInstance | undefined;
  let setup: Promise<RespClient> | undefined;
  const cleanup = new Cleanup();

  /** The server (one for the file) and a command client, started on first use; a failure fails every test. */
  const ready = (): Promise<RespClient> => {
    setup ??= (async () => {
      redis = await startRedis();
      return client();
    })();
    return setup;
  };
  const client = async (): Promise<RespClient> => {
    const cl = await RespClient.connect({ port: redis!.port });
    cleanup.add(() => cl.close());
    return cl;
  };

  after(async () => {
    await cleanup.run();
    await redis?.stop();
  });

  test('SET/GET round-trips all 256 byte values and a 5 MB value', async () => {
    const c = await ready();
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const key = Buffer.from([0, 0xff, 0x0d, 0x0a, 0x80]);
    assert.equal(await c.command(['SET', key, all]), 'OK');
    assert.deepStrictEqual(await c.command(['GET', key]), all);
    const big = patternBytes(5 * 1024 * 1024, 7);
    assert.equal(await within(c.command(['SET', 'big', big]), STEP, 'SET big'), 'OK');
    const got = await within(c.command(['GET', 'big']), STEP, 'GET big');
    assert.ok(Buffer.isBuffer(got) && got.equals(big), '5 MB value differs');
    assert.equal(await c.command(['STRLEN', 'big']), big.length);
  });

  test('integers, numbers as arguments, nil and UTF-8', async () => {
    const c = await ready();
    assert.equal(await c.command(['INCR', 'counter']), 1);
    assert.equal(await c.command(['INCRBY', 'counter', 41]), 42);
    assert.equal(await c.command(['INCRBY', 'counter', -50]), -8);
    assert.equal(await c.command(['GET', 'no-such-key']), null);
    assert.equal(await c.command(['SET', 'ключ', 'значение ✓']), 'OK');
    assert.equal(String(await c.command(['GET', 'ключ'])), 'значение ✓');
  });

  test('array replies', async () => {
    const c = await ready();
    assert.equal(await c.command(['RPUSH', 'list', 'a', Buffer.from([0, 1]), 3]), 3);
    assert.deepStrictEqual(await c.command(['LRANGE', 'list', 0, -1]), [Buffer.from('a'), Buffer.from([0, 1]), Buffer.from('3')]);
    assert.deepStrictEqual(await c.command(['LRANGE', 'no-such-list', 0, -1]), []);
    assert.deepStrictEqual(await c.command(['MGET', 'list-missing', 'counter']), [null, Buffer.from('-8')]);
  });

  test('EVAL: nested arrays, status replies, nested errors', async () => {
    const c = await ready();
    assert.deepStrictEqual(await c.command(['EVAL', 'return {1,{2,3}}', 0]), [1, [2, 3]]);
    assert.deepStrictEqual(await c.command(['EVAL', "return {1,{2,'x',{}},redis.status_reply('FINE')}", 0]), [1, [2, Buffer.from('x'), []], 'FINE']);
    assert.equal(await c.command(['EVAL', 'return ARGV[1] + 1', 0, 41]), 42);
    // Redis puts an error element inside the array: the client rejects the whole reply with it.
    await assert.rejects(c.command(['EVAL', "return {1,{2,'x'},redis.error_reply('E1')}", 0]), (err: Error) => err instanceof RespError && err.name === 'RespError' && /E1/.test(err.message));
    await assert.rejects(c.command(['EVAL', "return redis.error_reply('MYERR top')", 0]), (err: Error) => err instanceof RespError && /MYERR top/.test(err.message));
    assert.equal(await c.command(['PING']), 'PONG');
  });

  test('MULTI/EXEC: results as an array; a failed command inside rejects with its error', async () => {
    const c = await ready();
    const replies = await Promise.all([c.command(['MULTI']), c.command(['SET', 'tx', 'a']), c.command(['APPEND', 'tx', 'b']), c.command(['EXEC'])]);
    assert.deepStrictEqual(replies, ['OK', 'QUEUED', 'QUEUED', ['OK', 2]]);
    const failing = await Promise.allSettled([c.command(['MULTI']), c.command(['INCR', 'tx']), c.command(['EXEC'])]);
    assert.deepStrictEqual(failing.slice(0, 2), [{ status: 'fulfilled', value: 'OK' }, { status: 'fulfilled', value: 'QUEUED' }]);
    const execError = (failing[2] as PromiseRejectedResult).reason as Error;
    assert.ok(execError instanceof RespError && /not an integer/.test(execError.message), String(execError));
    assert.equal(String(await c.command(['GET', 'tx'])), 'ab');
  });

  test('an error reply rejects with RespError and the connection keeps working', async () => {
    const c = await ready();
    await c.command(['SET', 'text', 'abc']);
    const results = await Promise.allSettled([c.command(['INCR', 'text']), c.command(['NO-SUCH-COMMAND']), c.command(['GET', 'text'])]);
    assert.equal(results[0].status, 'rejected');
    const err = (results[0] as PromiseRejectedResult).reason as Error;
    assert.ok(err instanceof RespError);
    assert.equal(err.name, 'RespError');
    assert.match(err.message, /^ERR value is not an integer/);
    assert.equal(results[1].status, 'rejected');
    assert.match(((results[1] as PromiseRejectedResult).reason as Error).message, /unknown command/);
    assert.deepStrictEqual(results[2], { status: 'fulfilled', value: Buffer.from('abc') });
    assert.equal(c.closed, false);
  });

  test('1000 pipelined INCRs resolve in order', async () => {
    const c = await ready();
    await c.command(['DEL', 'seq']);
    const order: number[] = [];
    const all = Array.from({ length: 1000 }, () => c.command(['INCR', 'seq']).then((n) => (order.push(n as number), n)));
    assert.deepStrictEqual(await within(Promise.all(all), STEP, '1000 INCRs'), Array.from({ length: 1000 }, (_, i) => i + 1));
    assert.deepStrictEqual(order, Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  test('pub/sub: messages in order and binary-safe; unsubscribe stops them', async () => {
    const c = await ready();
    const sub = await client();
    const inbox = new Inbox<[string, Buffer]>();
    sub.onMessage = (channel, payload) => inbox.push([channel, payload]);
    await sub.subscribe('chan-1');
    await sub.subscribe('chan-2');
    const payloads = Array.from({ length: 100 }, (_, i) => Buffer.concat([Buffer.from([i, 0, 0x0d, 0x0a, 0xff]), patternBytes(i * 37, i + 1)]));
    const counts = await Promise.all(payloads.map((p, i) => c.command(['PUBLISH', i % 2 ? 'chan-2' : 'chan-1', p])));
    assert.deepStrictEqual(counts, payloads.map(() => 1));
    for (let i = 0; i < payloads.length; i++) {
      const [channel, payload] = await inbox.next(STEP, `message ${i}`);
      assert.equal(channel, i % 2 ? 'chan-2' : 'chan-1');
      assert.ok(payload.equals(payloads[i]!), `payload ${i} differs`);
    }
    const big = patternBytes(3 * 1024 * 1024, 99);
    await c.command(['PUBLISH', 'chan-1', big]);
    assert.ok((await inbox.next(STEP, 'big message'))[1].equals(big));

    await sub.unsubscribe('chan-1');
    assert.equal(await c.command(['PUBLISH', 'chan-1', 'gone']), 0);
    await c.command(['PUBLISH', 'chan-2', 'still here']);
    assert.deepStrictEqual(await inbox.next(STEP, 'chan-2 message'), ['chan-2', Buffer.from('still here')]);
    await sub.unsubscribe('chan-2');
    assert.equal(await c.command(['PUBLISH', 'chan-2', 'gone']), 0);
    // A PING round trip on the subscriber: anything published before would have arrived by now.
    await sub.command(['PING']);
    assert.equal(inbox.size, 0);
    // With no channel left it is an ordinary connection again.
    assert.deepStrictEqual(await sub.command(['ECHO', 'back']), Buffer.from('back'));
  });

  test('a subscribed client refuses ordinary commands; PING works', async () => {
    const c = await ready();
    const sub = await client();
    await sub.subscribe('chan-x');
    assert.throws(() => sub.command(['GET', 'x']), /GET is not allowed on a subscribed connection/);
    assert.throws(() => sub.command(['PUBLISH', 'chan-x', 'y']), /not allowed on a subscribed connection/);
    assert.throws(() => c.command(['SUBSCRIBE', 'chan-y']), /use subscribe\(\)/);
    assert.deepStrictEqual(await sub.command(['PING']), [Buffer.from('pong'), Buffer.from('')]);
    await sub.unsubscribe('chan-x');
    assert.equal(await sub.command(['PING']), 'PONG');
  });

  test('connecting to a closed port rejects', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await assert.rejects(RespClient.connect({ port }), /redis connect to 127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/);
  });

  test('close() sends QUIT; later commands reject', async () => {
    await ready();
    const cl = await RespClient.connect({ port: redis!.port });
    const closes: Array<Error | undefined> = [];
    cl.onClose = (err) => closes.push(err);
    const last = cl.command(['ECHO', 'before close']);
    await within(cl.close(), STEP, 'close');
    assert.deepStrictEqual(await last, Buffer.from('before close'));
    assert.equal(cl.closed, true);
    assert.deepStrictEqual(closes, [undefined]);
    await assert.rejects(cl.command(['PING']), { message: 'redis connection closed' });
    await cl.close();
  });

  test('when the server goes away, pending commands reject and onClose gets an error', async () => {
    const other = await startRedis();
    cleanup.add(() => other.stop());
    const cl = await RespClient.connect({ port: other.port });
    const closed = new Promise<Error | undefined>((resolve) => (cl.onClose = resolve));
    assert.equal(await cl.command(['PING']), 'PONG');
    const blocked = [cl.command(['BLPOP', 'never', 0]), cl.command(['GET', 'after'])];
    const rejected = blocked.map((p) => assert.rejects(within(p, STEP, 'pending command'), { message: 'redis connection closed' }));
    await within(other.stop(), STEP, 'stop redis');
    await Promise.all(rejected);
    const err = await within(closed, STEP, 'onClose');
    assert.ok(err instanceof Error, 'onClose without an error');
    assert.equal(cl.closed, true);
    await assert.rejects(cl.command(['PING']), { message: 'redis connection closed' });
  });
});
