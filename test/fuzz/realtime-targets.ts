/**
 * Fuzz targets for the realtime layer: the MessagePack decoder, the JSON codec, and the
 * server's dispatch of incoming messages over a real connection. Properties:
 * - decoders throw only their documented errors (MsgpackError, CodecError); what decodes
 *   encodes and decodes again to the same value; nesting stays within MAX_DEPTH; decoded
 *   maps are plain objects whose prototype no key could change;
 * - whatever a client sends, the server reports no internal error, and the connection
 *   either still answers a Ping with a Pong or was closed with a code the protocol gives
 *   for bad input (1003, 1007, 1008, 1009, 4000, 4001, 4029).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CodecError, decodeMsgpack, encodeMsgpack, jsonCodec, MAX_DEPTH, msgpackCodec, MsgpackError, RealtimeServer } from '../../src/realtime/index.js';
import { WireClient } from '../realtime/wire-client.js';
import { FuzzInput } from './fuzz-input.js';

function depth(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(depth));
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) return 1 + Math.max(0, ...Object.values(v).map(depth));
  return 0;
}

function checkPlain(v: unknown): void {
  if (Array.isArray(v)) return v.forEach(checkPlain);
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const proto = Object.getPrototypeOf(v);
    assert.ok(proto === Object.prototype || proto === null, 'a decoded map is a plain object');
    for (const k of Object.keys(v)) checkPlain((v as Record<string, unknown>)[k]);
  }
}

function runMsgpack(bytes: Uint8Array): void {
  let value: unknown;
  try {
    value = decodeMsgpack(bytes);
  } catch (err) {
    assert.ok(err instanceof MsgpackError, `unexpected ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    return;
  }
  assert.ok(depth(value) <= MAX_DEPTH + 1, 'nesting within MAX_DEPTH');
  checkPlain(value);
  assert.deepStrictEqual(decodeMsgpack(encodeMsgpack(value)), value, 'decode(encode(v)) is v');
}

function runJson(bytes: Uint8Array): void {
  const input = new FuzzInput(bytes);
  const asText = input.bool();
  const body = input.rest();
  let value: unknown;
  try {
    value = jsonCodec.decode(asText ? Buffer.from(body).toString('utf8') : body);
  } catch (err) {
    assert.ok(err instanceof CodecError, `unexpected ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    return;
  }
  checkPlain(value);
  // JSON text carries no sign of zero (JSON.stringify(-0) is "0"): -0 comes back as 0.
  assert.deepStrictEqual(jsonCodec.decode(jsonCodec.encode(value)), unsignedZeros(value), 'decode(encode(v)) is v');
}

function unsignedZeros(v: unknown): unknown {
  if (Object.is(v, -0)) return 0;
  if (Array.isArray(v)) return v.map(unsignedZeros);
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const out: Record<string, unknown> = Object.create(Object.getPrototypeOf(v) as object | null) as Record<string, unknown>;
    for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: unsignedZeros((v as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

// --- Dispatch over a real connection ---------------------------------------------------

// docs/protocol.md §8: the codes the server gives for bad input (1003: a text frame on MessagePack).
const ALLOWED_CLOSE = new Set([1003, 1007, 1008, 1009, 4000, 4001, 4029]);

/** One server for the whole run (the target is called many times). */
let server: { rt: RealtimeServer; url: string; errors: unknown[] } | null = null;

async function realtimeServer(): Promise<{ rt: RealtimeServer; url: string; errors: unknown[] }> {
  if (server !== null) return server;
  const errors: unknown[] = [];
  const rt = new RealtimeServer({
    websocket: { heartbeatInterval: 0, maxPayload: 64 * 1024 },
    authenticate: (token) => (token === 'bad' ? false : { user: { name: String(token) } }),
    topics: (t) => (t.startsWith('chat:') ? { historySize: 20, presence: true } : t.startsWith('state:') ? { mode: 'conflated', historySize: 5 } : undefined),
    rateLimit: { messages: 2000, burst: 1 },
    onError: (err) => errors.push(err),
  });
  rt.on('say', (data, s) => void s.emit('said', data));
  rt.handle('echo', (data) => data);
  rt.handle('fail', () => {
    throw new Error('handler failed on purpose');
  });
  const addr = await rt.listen(0, '127.0.0.1');
  server = { rt, url: `ws://127.0.0.1:${addr.port}/`, errors };
  return server;
}

/** Closes the shared server (end of a fuzz run). */
export async function closeRealtimeFuzzServer(): Promise<void> {
  const s = server;
  server = null;
  await s?.rt.close({ timeout: 200 });
}

async function runDispatch(bytes: Uint8Array): Promise<void> {
  const { url, errors } = await realtimeServer();
  const input = new FuzzInput(bytes);
  const useMsgpack = input.bool();
  const wire = new WireClient(url, useMsgpack ? 'msgpack' : 'json');
  try {
    await Promise.race([wire.opened, wire.closed]);
    // The rest is a series of messages: [kind][length16][bytes], sent as binary (kind 0)
    // or as text (kind 1), as the generator encoded them with the codec (or as noise).
    for (let i = 0; i < 64; i++) {
      const kind = input.byte() % 2;
      const data = input.take(input.below(4096));
      if (data.length === 0) break;
      if (kind === 1) wire.ws.send(Buffer.from(data).toString('utf8'));
      else wire.ws.send(data);
    }
    const n = 4242;
    wire.send([9, n]);
    // Whichever comes first; the others are stopped (a polling loop or timer left behind
    // would keep the process alive after the run).
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      wire.closed.then((c) => ({ closed: c })),
      waitFor(() => settled || wire.received.some((m) => m[0] === 10 && m[1] === n)).then(() => ({ pong: true })),
      new Promise<{ timeout: true }>((r) => (timer = setTimeout(() => r({ timeout: true }), 5000))),
    ]);
    settled = true;
    clearTimeout(timer);
    assert.ok(!('timeout' in outcome), 'the server answered the ping or closed the connection');
    if ('closed' in outcome) assert.ok(ALLOWED_CLOSE.has(outcome.closed.code), `close code ${outcome.closed.code} ${outcome.closed.reason}`);
    const internal = errors.splice(0).filter((e) => !(e instanceof Error && e.message === 'handler failed on purpose'));
    assert.deepEqual(internal.map(String), [], 'no internal error reported by the server');
  } finally {
    wire.ws.close();
  }
}

async function waitFor(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
}

// --- Generators ---------------------------------------------------------------------

const id = fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom(0, -1, 2 ** 31, 1.5, '1'));
const topic = fc.oneof(fc.constantFrom('chat:lobby', 'state:x', 'chat:', 'nochat', 'chat:a/b', ''), fc.string({ maxLength: 20 }));
const name = fc.oneof(fc.constantFrom('say', 'echo', 'fail', 'missing', ''), fc.string({ maxLength: 10 }));
const data = fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 16 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }));
const message = fc.oneof(
  fc.tuple(fc.constant(0), fc.oneof(fc.constantFrom('ok', 'bad', 'alice'), data), fc.oneof(fc.constant({}), data)),
  fc.tuple(fc.constant(2), id, topic, fc.oneof(fc.constant({}), fc.record({ since: fc.tuple(fc.string({ maxLength: 6 }), fc.integer({ min: -1, max: 50 })) }), data)),
  fc.tuple(fc.constant(3), id, topic),
  fc.tuple(fc.constant(4), id, topic, data, fc.oneof(fc.constant({}), fc.record({ key: fc.string({ maxLength: 4 }), exceptSelf: fc.boolean() }), data)),
  fc.tuple(fc.constant(5), name, data),
  fc.tuple(fc.constant(6), id, name, data),
  fc.tuple(fc.constant(7), id, data),
  fc.tuple(fc.constant(8), id, fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })),
  fc.tuple(fc.constant(9), fc.oneof(fc.integer(), data)),
  fc.tuple(fc.constant(11), id, data),
  fc.tuple(fc.constant(15), id, topic),
  fc.tuple(fc.integer({ min: -2, max: 30 }), data),
  fc.array(data, { maxLength: 5 }),
  data,
);

function encodeMessages(useMsgpack: boolean, connectFirst: boolean, messages: unknown[], noise: Uint8Array[]): Uint8Array {
  const codec = useMsgpack ? msgpackCodec : jsonCodec;
  const parts: Buffer[] = [Buffer.from([useMsgpack ? 1 : 0])];
  const add = (kind: number, bytes: Uint8Array) => {
    const header = Buffer.alloc(3);
    header[0] = kind;
    header.writeUInt16BE(Math.min(bytes.length, 4095), 1);
    parts.push(header, Buffer.from(bytes.subarray(0, 4095)));
  };
  const list = connectFirst ? [[0, 'alice', {}], ...messages] : messages;
  for (const m of list) {
    const encoded = codec.encode(m);
    add(typeof encoded === 'string' ? 1 : 0, typeof encoded === 'string' ? Buffer.from(encoded) : encoded);
  }
  for (const b of noise) add(0, b);
  return new Uint8Array(Buffer.concat(parts));
}

const msgpackValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }),
    fc.string({ maxLength: 40 }),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constant('__proto__')), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Values the JSON codec carries: JSON, plus binary as {"$bin": base64}. */
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 40 }),
    fc.uint8Array({ maxLength: 40 }),
    fc.constant({ $bin: 'not base64!' }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', '$bin')), tie('value'), { maxKeys: 4 }),
  ),
})).value;

export const realtimeTargets = [
  {
    name: 'msgpack',
    description: 'MessagePack decoder (strict): errors, round trip, depth, plain objects',
    generate: () => fc.oneof(msgpackValue.map((v) => encodeMsgpack(v)), fc.uint8Array({ maxLength: 64 })),
    run: runMsgpack,
  },
  {
    name: 'json-codec',
    description: 'the JSON codec ($bin binary): errors and round trip',
    generate: () =>
      fc.tuple(fc.boolean(), fc.oneof(jsonValue.map((v) => String(jsonCodec.encode(v))), fc.string({ maxLength: 60 }))).map(([t, s]) => new Uint8Array(Buffer.concat([Buffer.from([t ? 1 : 0]), Buffer.from(s)]))),
    run: runJson,
  },
  {
    name: 'realtime-dispatch',
    description: 'the realtime server reading client messages over a real connection (JSON and MessagePack)',
    generate: () =>
      fc
        .tuple(fc.boolean(), fc.boolean(), fc.array(message, { maxLength: 8 }), fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 2 }))
        .map(([mp, connect, messages, noise]) => encodeMessages(mp, connect, messages, noise)),
    run: runDispatch,
  },
];
