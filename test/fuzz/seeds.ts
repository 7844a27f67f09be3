/**
 * The hand-made seeds of the fuzz corpus, one list per target: inputs that reach deep into
 * each parser (valid traffic, and each attack of issue 9 in small). Written to
 * test/fuzz/corpus/<target>/seed-* by `npm run fuzz -- --write-seeds` (the files are
 * checked in; crash-* files next to them come from failures).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { constants, deflateRawSync } from 'node:zlib';
import { encodeMsgpack, jsonCodec, msgpackCodec } from '../../src/realtime/index.js';
import { CORPUS_DIR } from './corpus.js';

const KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

function frame(opcode: number, payload: Uint8Array | string, o: { fin?: boolean; rsv?: number; mask?: boolean; announced?: number } = {}): Buffer {
  const data = Buffer.from(payload);
  const len = o.announced ?? data.length;
  const mask = o.mask !== false;
  const head = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode];
  if (len < 126) head.push((mask ? 0x80 : 0) | len);
  else if (len < 65536) head.push((mask ? 0x80 : 0) | 126, len >> 8, len & 0xff);
  else {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(len));
    head.push((mask ? 0x80 : 0) | 127, ...b);
  }
  if (mask) for (let i = 0; i < data.length; i++) data[i]! ^= KEY[i & 3]!;
  return Buffer.concat([Buffer.from(head), mask ? KEY : Buffer.alloc(0), data]);
}

function deflate(data: Buffer): Buffer {
  return deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
}

function close(code: number, reason = ''): Buffer {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code);
  b.write(reason, 2);
  return b;
}

/** Setup bytes of the frame targets: role, maxPayload index (0-3), chunk mode (0-3), chunking seed. */
function setup(o: { client?: boolean; maxPayload?: number; chunks?: number; seed?: number }): Buffer {
  const seed = o.seed ?? 0x1234;
  return Buffer.from([(o.client ? 1 : 0) | ((o.maxPayload ?? 3) << 1) | ((o.chunks ?? 2) << 3), seed >> 8, seed & 0xff]);
}

const frames: Record<string, Buffer> = {
  'text-binary-close': Buffer.concat([setup({}), frame(0x1, 'hello'), frame(0x2, Buffer.from([0, 1, 2, 255])), frame(0x8, close(1000, 'bye'))]),
  'fragmented-with-ping': Buffer.concat([setup({ chunks: 1 }), frame(0x1, 'hel', { fin: false }), frame(0x9, 'p'), frame(0x0, 'lo', { fin: false }), frame(0x0, ' world')]),
  'utf8-split-across-fragments': Buffer.concat([setup({}), frame(0x1, Buffer.from([0xe2, 0x82]), { fin: false }), frame(0x0, Buffer.from([0xac]))]),
  'invalid-utf8': Buffer.concat([setup({}), frame(0x1, Buffer.from([0xc3, 0x28]))]),
  'client-role-unmasked': Buffer.concat([setup({ client: true }), frame(0x1, 'from server', { mask: false }), frame(0x8, close(1001), { mask: false })]),
  'unmasked-from-client': Buffer.concat([setup({}), frame(0x1, 'x', { mask: false })]),
  'reserved-opcode-and-rsv': Buffer.concat([setup({}), frame(0x3, 'x'), frame(0x1, 'y', { rsv: 2 })]),
  'ping-flood': Buffer.concat([setup({ chunks: 3 }), ...Array.from({ length: 40 }, () => frame(0x9, Buffer.alloc(125, 0x61)))]),
  'control-too-long': Buffer.concat([setup({}), frame(0x9, Buffer.alloc(126))]),
  'fragmented-control': Buffer.concat([setup({}), frame(0xa, 'x', { fin: false })]),
  'continuation-without-start': Buffer.concat([setup({}), frame(0x0, 'x')]),
  'close-bad-codes': Buffer.concat([setup({}), frame(0x8, close(1005))]),
  'close-one-byte': Buffer.concat([setup({}), frame(0x8, Buffer.from([3]))]),
  'announces-64-mib-sends-one-byte': Buffer.concat([setup({ chunks: 0 }), frame(0x2, Buffer.from([1]), { announced: 64 * 1024 * 1024 })]),
  'announces-2-63': Buffer.concat([setup({}), Buffer.from([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0]), KEY]),
  'non-minimal-length': Buffer.concat([setup({}), Buffer.from([0x81, 0xfe, 0x00, 0x05]), KEY, Buffer.from('hello').map((b, i) => b ^ KEY[i & 3]!)]),
  'over-max-payload': Buffer.concat([setup({ maxPayload: 0 }), frame(0x2, Buffer.alloc(126))]),
  'fragment-flood-over-limit': Buffer.concat([setup({ maxPayload: 1 }), ...Array.from({ length: 30 }, (_, i) => frame(i === 0 ? 0x2 : 0x0, Buffer.alloc(40), { fin: false }))]),
  'data-after-close': Buffer.concat([setup({}), frame(0x8, close(1000)), frame(0x1, 'late')]),
};

/** Setup bytes of frames-deflate: frames' three bytes and the agreement (no context takeover both ways, windows 15). */
function deflateSetup(o: Parameters<typeof setup>[0], agreement = 0b1110_1111): Buffer {
  return Buffer.concat([setup(o), Buffer.from([agreement])]);
}

const framesDeflate: Record<string, Buffer> = {
  'compressed-text-and-plain': Buffer.concat([deflateSetup({}), frame(0x1, deflate(Buffer.from('hello hello hello')), { rsv: 4 }), frame(0x1, 'plain')]),
  'compressed-fragmented': (() => {
    const d = deflate(Buffer.from('a compressed message in two fragments'));
    return Buffer.concat([deflateSetup({}), frame(0x1, d.subarray(0, 5), { rsv: 4, fin: false }), frame(0x0, d.subarray(5))]);
  })(),
  'bomb-over-limit': Buffer.concat([deflateSetup({ maxPayload: 2 }), frame(0x2, deflate(Buffer.alloc(1024 * 1024)), { rsv: 4 })]),
  'bomb-3-mib-sliced': Buffer.concat([deflateSetup({ chunks: 3 }), frame(0x2, deflate(Buffer.alloc(3 * 1024 * 1024, 0x61)), { rsv: 4 }), frame(0x1, 'after')]),
  'context-takeover': Buffer.concat([deflateSetup({}, 0b1110_1100), frame(0x1, deflate(Buffer.from('first')), { rsv: 4 }), frame(0x1, deflate(Buffer.from('second')), { rsv: 4 })]),
  'window-8-bits': Buffer.concat([deflateSetup({}, 0b0000_0011), frame(0x2, deflate(Buffer.alloc(5000, 7)), { rsv: 4 })]),
  'corrupt-deflate': Buffer.concat([deflateSetup({}), frame(0x2, Buffer.from([0xff, 0xff, 0xff, 0x00, 0x12]), { rsv: 4 })]),
  'rsv1-on-continuation': Buffer.concat([deflateSetup({}), frame(0x1, deflate(Buffer.from('ab')), { rsv: 4, fin: false }), frame(0x0, 'c', { rsv: 4 })]),
  'rsv1-on-ping': Buffer.concat([deflateSetup({}), frame(0x9, 'p', { rsv: 4 })]),
};

const crlf = (lines: string[]) => Buffer.from(lines.map((l) => `${l}\r\n`).join('') + '\r\n', 'latin1');
const upgrade = (extra: string[] = [], start = 'GET /chat HTTP/1.1') =>
  crlf([start, 'Host: 127.0.0.1:8080', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', ...extra]);

const httpRequest: Record<string, Buffer> = {
  valid: Buffer.concat([Buffer.from([0, 0]), upgrade()]),
  'valid-byte-by-byte': Buffer.concat([Buffer.from([1, 0]), upgrade(['Sec-WebSocket-Protocol: chat, v2', 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits'])]),
  'lf-only': Buffer.concat([Buffer.from([2, 9]), Buffer.from(upgrade().toString('latin1').replace(/\r\n/g, '\n'), 'latin1')]),
  post: Buffer.concat([Buffer.from([0, 0]), upgrade([], 'POST / HTTP/1.1')]),
  'http-1.0': Buffer.concat([Buffer.from([0, 0]), upgrade([], 'GET / HTTP/1.0')]),
  'version-8': Buffer.concat([Buffer.from([0, 0]), Buffer.from(upgrade().toString('latin1').replace('Version: 13', 'Version: 8'), 'latin1')]),
  'duplicate-key': Buffer.concat([Buffer.from([0, 0]), upgrade(['Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=='])]),
  'obs-fold': Buffer.concat([Buffer.from([0, 0]), upgrade(['X-A: one', ' two'])]),
  'header-without-colon': Buffer.concat([Buffer.from([0, 0]), upgrade(['NoColonHere'])]),
  'long-header': Buffer.concat([Buffer.from([3, 7]), upgrade([`X-Long: ${'a'.repeat(9000)}`])]),
  'nul-in-value': Buffer.concat([Buffer.from([0, 0]), upgrade(['X-A: a\0b'])]),
};

const httpResponse: Record<string, Buffer> = {
  valid: crlf(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'Sec-WebSocket-Protocol: chat']),
  'with-deflate': crlf(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=10']),
  'wrong-accept': crlf(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Accept: AAAA']),
  'unasked-protocol': crlf(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'Sec-WebSocket-Protocol: other']),
  'not-101': crlf(['HTTP/1.1 403 Forbidden', 'Content-Length: 0']),
};

const extensions: Record<string, Buffer> = {
  plain: Buffer.concat([Buffer.from([0, 0, 0]), Buffer.from('permessage-deflate')]),
  'all-params': Buffer.concat([Buffer.from([0x0f, 2, 7]), Buffer.from('permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits')]),
  'two-offers-fallback': Buffer.concat([Buffer.from([4, 1, 0]), Buffer.from('permessage-deflate; server_max_window_bits=8, permessage-deflate')]),
  'quoted-value': Buffer.concat([Buffer.from([0, 0, 0]), Buffer.from('permessage-deflate; client_max_window_bits="15"')]),
  'duplicate-param': Buffer.concat([Buffer.from([0, 0, 0]), Buffer.from('permessage-deflate; server_no_context_takeover; server_no_context_takeover')]),
  'bad-bits': Buffer.concat([Buffer.from([0, 0, 0]), Buffer.from('permessage-deflate; server_max_window_bits=16; client_max_window_bits=07')]),
  'unknown-and-empty': Buffer.concat([Buffer.from([0, 0, 0]), Buffer.from('x-webkit-deflate-frame, , ;')]),
};

const negotiation: Record<string, Buffer> = {
  defaults: Buffer.alloc(8),
  'all-set': Buffer.from([1, 1, 1, 2, 1, 7, 1, 1, 1, 0, 1, 5]),
  'mixed-windows': Buffer.from([0, 1, 1, 0, 0, 1, 1, 1, 7, 0]),
};

const msgpack: Record<string, Uint8Array> = {
  'realtime-publish': encodeMsgpack([4, 7, 'chat:lobby', { text: 'hi', n: 1.5, big: 2n ** 60n, bin: new Uint8Array([1, 2]) }, {}]),
  'nested-deep': Buffer.concat([Buffer.alloc(80, 0x91), Buffer.from([0xc0])]),
  'proto-key': Buffer.from([0x81, 0xa9, ...Buffer.from('__proto__'), 0x81, 0xa1, 0x78, 0x01]),
  'str32-announces-4g': Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]),
  'array32-announces-4g': Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]),
  'ext-and-timestamp': Buffer.from([0xd6, 0xff, 0, 0, 0, 1, 0xc7, 0x01, 0x05, 0x00]),
  'invalid-utf8-string': Buffer.from([0xa2, 0xc3, 0x28]),
  'trailing-bytes': Buffer.from([0x01, 0x02]),
  'never-used-0xc1': Buffer.from([0xc1]),
};

const jsonCodecSeeds: Record<string, Buffer> = {
  'text-publish': Buffer.concat([Buffer.from([1]), Buffer.from('[4,7,"chat:lobby",{"text":"hi"},{}]')]),
  'binary-envelope': Buffer.concat([Buffer.from([0]), Buffer.from('{"$bin":"AAEC"}')]),
  'bad-base64': Buffer.concat([Buffer.from([1]), Buffer.from('{"$bin":"%%%"}')]),
  'proto-key': Buffer.concat([Buffer.from([1]), Buffer.from('{"__proto__":{"x":1}}')]),
  'deep-nesting': Buffer.concat([Buffer.from([1]), Buffer.from('['.repeat(200) + ']'.repeat(200))]),
  'invalid-utf8': Buffer.from([0, 0x22, 0xc3, 0x28, 0x22]),
};

/** realtime-dispatch: [codec][kind][length16][bytes]... (see realtime-targets.ts). */
function dispatch(useMsgpack: boolean, messages: unknown[], raw: Array<[number, Buffer]> = []): Buffer {
  const codec = useMsgpack ? msgpackCodec : jsonCodec;
  const parts: Buffer[] = [Buffer.from([useMsgpack ? 1 : 0])];
  const add = (kind: number, b: Buffer) => {
    const h = Buffer.alloc(3);
    h[0] = kind;
    h.writeUInt16BE(b.length, 1);
    parts.push(h, b);
  };
  for (const m of messages) {
    const e = codec.encode(m);
    add(typeof e === 'string' ? 1 : 0, Buffer.from(e));
  }
  for (const [kind, b] of raw) add(kind, b);
  return Buffer.concat(parts);
}

const session = [0, 'alice', {}];
const realtimeDispatch: Record<string, Buffer> = {
  'json-session': dispatch(false, [session, [2, 1, 'chat:lobby', {}], [4, 2, 'chat:lobby', { t: 'hi' }, {}], [6, 3, 'echo', { a: 1 }], [6, 4, 'fail', null], [5, 'say', 'x'], [3, 5, 'chat:lobby']]),
  'msgpack-session': dispatch(true, [session, [2, 1, 'state:x', { since: ['e', 3] }], [4, 2, 'state:x', new Uint8Array([1, 2, 3]), { key: 'k' }], [6, 3, 'missing', null]]),
  'before-connect': dispatch(false, [[2, 1, 'chat:lobby', {}]]),
  'bad-token': dispatch(false, [[0, 'bad', {}]]),
  'garbage-text': dispatch(false, [session], [[1, Buffer.from('{not json')], [0, Buffer.from([0xc1])]]),
  'msgpack-as-text': dispatch(true, [session], [[1, Buffer.from('[9,1]')]]),
  'unknown-type': dispatch(false, [session, [99, 1], [], 'str', [4]]),
  'forbidden-topic': dispatch(false, [session, [2, 1, 'nochat', {}], [4, 2, '', 1, {}]]),
};

const all: Record<string, Record<string, Uint8Array>> = {
  frames,
  'frames-deflate': framesDeflate,
  'http-request': httpRequest,
  'http-response': httpResponse,
  extensions,
  'deflate-negotiation': negotiation,
  msgpack,
  'json-codec': jsonCodecSeeds,
  'realtime-dispatch': realtimeDispatch,
};

/** Writes every seed to test/fuzz/corpus/<target>/seed-<name> (`npm run fuzz -- --write-seeds`). */
export function writeSeeds(): number {
  let n = 0;
  for (const [target, seeds] of Object.entries(all)) {
    mkdirSync(`${CORPUS_DIR}${target}`, { recursive: true });
    for (const [name, bytes] of Object.entries(seeds)) {
      writeFileSync(`${CORPUS_DIR}${target}/seed-${name}`, bytes);
      n++;
    }
  }
  return n;
}
