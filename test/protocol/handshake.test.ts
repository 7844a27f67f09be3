import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HandshakeError,
  HttpHeadError,
  acceptKey,
  buildAcceptResponse,
  buildClientRequest,
  buildErrorResponse,
  BARE_LF,
  findHeadEnd,
  HEAD_INCOMPLETE,
  formatExtension,
  hasToken,
  parseExtensions,
  parseHttpHead,
  splitList,
  validateUpgradeRequest,
  validateUpgradeResponse,
  type UpgradeRequestHead,
} from '../../src/protocol/index.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

function request(over: Partial<UpgradeRequestHead> = {}, headers: Record<string, string | string[] | undefined> = {}): UpgradeRequestHead {
  return {
    method: 'GET',
    target: '/chat',
    version: 'HTTP/1.1',
    headers: {
      host: 'server.example.com',
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': KEY,
      'sec-websocket-version': '13',
      ...headers,
    },
    ...over,
  };
}

function rejected(req: UpgradeRequestHead) {
  const r = validateUpgradeRequest(req);
  assert.equal(r.ok, false, 'the request should be rejected');
  return r as Extract<typeof r, { ok: false }>;
}

test('validateUpgradeRequest accepts the RFC 6455 §1.2 request', () => {
  const r = validateUpgradeRequest(request({}, { 'sec-websocket-protocol': 'chat, superchat', origin: 'http://example.com' }));
  assert.deepEqual(r, { ok: true, key: KEY, protocols: ['chat', 'superchat'], extensions: undefined });
});

test('validateUpgradeRequest also accepts a parsed head', () => {
  const head = parseHttpHead(buildClientRequest({ host: 'h:8080', path: '/x?y=1', key: KEY, protocols: ['a', 'b'], extensions: 'permessage-deflate' }));
  const r = validateUpgradeRequest({ method: head.start[0], target: head.start[1], version: head.start[2], headers: head.headers, repeated: head.repeated });
  assert.deepEqual(r, { ok: true, key: KEY, protocols: ['a', 'b'], extensions: 'permessage-deflate' });
});

test('405 with Allow: GET for other methods', () => {
  for (const method of ['POST', 'PUT', 'get', 'HEAD']) {
    const r = rejected(request({ method }));
    assert.equal(r.status, 405);
    assert.deepEqual(r.headers, { Allow: 'GET' });
  }
});

test('505 for HTTP versions below 1.1, 400 for malformed versions', () => {
  for (const version of ['HTTP/1.0', 'HTTP/0.9']) assert.equal(rejected(request({ version })).status, 505, version);
  for (const version of ['HTTP/1', 'http/1.1', 'HTTP/1.1 ', '']) assert.equal(rejected(request({ version })).status, 400, version);
});

test('400 for a missing, empty or repeated Host', () => {
  assert.equal(rejected(request({}, { host: undefined })).status, 400);
  assert.equal(rejected(request({}, { host: '' })).status, 400);
  assert.equal(rejected(request({ repeated: new Set(['host']) })).status, 400);
});

test('426 with Upgrade: websocket when the Upgrade header is missing or wrong', () => {
  for (const upgrade of [undefined, '', 'h2c', 'websockets']) {
    const r = rejected(request({}, { upgrade }));
    assert.equal(r.status, 426, String(upgrade));
    assert.equal(r.headers?.['Upgrade'], 'websocket');
  }
  // Case-insensitive, and in a list.
  assert.equal(validateUpgradeRequest(request({}, { upgrade: 'WebSocket' })).ok, true);
  assert.equal(validateUpgradeRequest(request({}, { upgrade: 'foo/1, websocket' })).ok, true);
});

test('400 when Connection lacks upgrade; "keep-alive, Upgrade" is accepted case-insensitively', () => {
  for (const connection of [undefined, 'keep-alive', 'close', 'upgraded', '']) {
    assert.equal(rejected(request({}, { connection })).status, 400, String(connection));
  }
  for (const connection of ['keep-alive, Upgrade', 'KEEP-ALIVE,UPGRADE', 'upgrade', ' Upgrade ', 'keep-alive,  uPgRaDe  ,foo']) {
    assert.equal(validateUpgradeRequest(request({}, { connection })).ok, true, connection);
  }
  // An array value (as some header containers give) is joined.
  assert.equal(validateUpgradeRequest(request({}, { connection: ['keep-alive', 'Upgrade'] })).ok, true);
});

test('400 for bad Sec-WebSocket-Key values', () => {
  const bad = [
    undefined,
    '',
    'dGhlIHNhbXBsZSBub25jZQ=', // wrong length
    'dGhlIHNhbXBsZSBub25jZQ===',
    'dGhlIHNhbXBsZSBub25jZ==', // 15 bytes
    'dGhlIHNhbXBsZSBub25jZQ', // unpadded
    'dGhlIHNhbXBsZSBub25jZ!==', // not base64
    'dGhlIHNhbXBsZSBub25jZB==', // non-canonical final character
    'dGhlIHNhbXBsZSBub25jZQZZ',
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==', // 27 bytes
  ];
  for (const key of bad) assert.equal(rejected(request({}, { 'sec-websocket-key': key })).status, 400, String(key));
  // Repeated, either flagged or joined.
  assert.equal(rejected(request({ repeated: new Set(['sec-websocket-key']) })).status, 400);
  assert.equal(rejected(request({}, { 'sec-websocket-key': `${KEY}, ${KEY}` })).status, 400);
  assert.equal(rejected(request({}, { 'sec-websocket-key': [KEY, KEY] })).status, 400);
  // Other 16-byte keys are fine.
  for (const key of ['AAAAAAAAAAAAAAAAAAAAAA==', '/////////////////////w==', 'x3JJHMbDL1EzLkh9GBhXDw==']) {
    const r = validateUpgradeRequest(request({}, { 'sec-websocket-key': key }));
    assert.equal(r.ok, true, key);
  }
});

test('426 with Sec-WebSocket-Version: 13 for other or missing versions', () => {
  for (const v of [undefined, '8', '12', '14', '13, 8', '']) {
    const r = rejected(request({}, { 'sec-websocket-version': v }));
    assert.equal(r.status, 426, String(v));
    assert.deepEqual(r.headers, { 'Sec-WebSocket-Version': '13' });
  }
});

test('subprotocol lists: order kept, whitespace and empty elements dropped, invalid or repeated refused', () => {
  const ok = (v: string | string[]) => {
    const r = validateUpgradeRequest(request({}, { 'sec-websocket-protocol': v }));
    assert.equal(r.ok, true, String(v));
    return (r as { protocols: string[] }).protocols;
  };
  assert.deepEqual(ok('chat'), ['chat']);
  assert.deepEqual(ok(' v2.chat ,  v1.chat,,'), ['v2.chat', 'v1.chat']);
  assert.deepEqual(ok(['a', 'b, c']), ['a', 'b', 'c']);
  assert.deepEqual(ok(''), []);
  for (const bad of ['a b', 'chat, chat', 'x/y', 'a;b', '"q"']) {
    assert.equal(rejected(request({}, { 'sec-websocket-protocol': bad })).status, 400, bad);
  }
});

test('buildAcceptResponse and buildErrorResponse', () => {
  const res = buildAcceptResponse(KEY, 'chat', 'permessage-deflate', { 'X-A': 'b\r\nInjected: 1' });
  assert.equal(
    res,
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\nSec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate\r\nX-A: b  Injected: 1\r\n\r\n`,
  );
  const head = parseHttpHead(res);
  assert.equal(head.headers['x-a'], 'b  Injected: 1');
  assert.equal(head.headers['injected'], undefined);
  const err = buildErrorResponse(426, 'upgrade please', { 'Sec-WebSocket-Version': '13' });
  assert.ok(err.startsWith('HTTP/1.1 426 Upgrade Required\r\n'));
  assert.ok(err.includes('\r\nSec-WebSocket-Version: 13\r\n'));
  assert.ok(err.includes('\r\nContent-Length: 15\r\n'));
  assert.ok(err.endsWith('\r\n\r\nupgrade please\n'));
});

// ---- client side ----

function response(extra: Record<string, string> = {}, status = '101 Switching Protocols', accept = ACCEPT): string {
  let s = `HTTP/1.1 ${status}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n`;
  for (const k in extra) s += `${k}: ${extra[k]}\r\n`;
  return s + '\r\n';
}

function responseError(text: string, protocols: string[] = [], extensions: string[] = []): string {
  try {
    validateUpgradeResponse(parseHttpHead(text), KEY, protocols, extensions);
  } catch (err) {
    assert.ok(err instanceof HandshakeError, `HandshakeError expected, got ${String(err)}`);
    return err.message;
  }
  assert.fail('the response should be refused');
}

test('validateUpgradeResponse accepts a correct 101', () => {
  assert.deepEqual(validateUpgradeResponse(parseHttpHead(response()), KEY, [], []), { protocol: '', extensions: [], extensionsHeader: '' });
  const r = validateUpgradeResponse(
    parseHttpHead(response({ 'Sec-WebSocket-Protocol': 'chat', 'Sec-WebSocket-Extensions': 'permessage-deflate; server_no_context_takeover' })),
    KEY,
    ['superchat', 'chat'],
    ['permessage-deflate'],
  );
  assert.equal(r.protocol, 'chat');
  assert.equal(r.extensions.length, 1);
  assert.equal(r.extensions[0]!.name, 'permessage-deflate');
  assert.equal(r.extensions[0]!.params.get('server_no_context_takeover'), true);
});

test('validateUpgradeResponse refusals', () => {
  assert.match(responseError(response({}, '200 OK')), /unexpected server response: 200 OK/);
  assert.match(responseError(response({}, '302 Found')), /302/);
  assert.match(responseError(response({}, '101 Switching Protocols', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=')), /Sec-WebSocket-Accept/);
  assert.match(responseError(response({}, '101 Switching Protocols', acceptKey('AAAAAAAAAAAAAAAAAAAAAA=='))), /Sec-WebSocket-Accept/);
  assert.match(responseError('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n' + `Sec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`), /Upgrade/);
  assert.match(responseError('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n' + `Sec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`), /Connection/);
  assert.match(responseError(response().replace('HTTP/1.1', 'HTTP/2.0')), /version/);
  // Subprotocols: one, and one that was offered.
  assert.match(responseError(response({ 'Sec-WebSocket-Protocol': 'chat' }), []), /not offered/);
  assert.match(responseError(response({ 'Sec-WebSocket-Protocol': 'other' }), ['chat']), /not offered/);
  assert.match(responseError(response({ 'Sec-WebSocket-Protocol': 'chat, superchat' }), ['chat', 'superchat']), /not offered/);
  // Extensions: only offered ones, once each, well-formed.
  assert.match(responseError(response({ 'Sec-WebSocket-Extensions': 'x-custom' }), [], ['permessage-deflate']), /not offered: x-custom/);
  assert.match(responseError(response({ 'Sec-WebSocket-Extensions': 'permessage-deflate' })), /not offered/);
  assert.match(
    responseError(response({ 'Sec-WebSocket-Extensions': 'permessage-deflate, permessage-deflate' }), [], ['permessage-deflate']),
    /twice/,
  );
  assert.match(responseError(response({ 'Sec-WebSocket-Extensions': 'permessage-deflate; a="' }), [], ['permessage-deflate']), /invalid Sec-WebSocket-Extensions/);
});

// ---- HTTP heads ----

test('parseHttpHead parses start line and headers, lower-casing names and joining repeats', () => {
  const h = parseHttpHead('GET /chat?x=1 HTTP/1.1\r\nHost: a\r\nX-Multi: 1\r\nx-multi: 2\r\nEmpty:\r\nSpaced:   v  \r\n\r\n');
  assert.deepEqual(h.start, ['GET', '/chat?x=1', 'HTTP/1.1']);
  assert.equal(h.headers['host'], 'a');
  assert.equal(h.headers['x-multi'], '1, 2');
  assert.equal(h.headers['empty'], '');
  assert.equal(h.headers['spaced'], 'v');
  assert.deepEqual(h.repeated, new Set(['x-multi']));
  assert.equal(parseHttpHead('GET / HTTP/1.1\r\nHost: a\r\n\r\n').repeated, null);
  // An empty reason phrase (status line ending in a space) is allowed.
  assert.deepEqual(parseHttpHead('HTTP/1.1 101 \r\n\r\n').start, ['HTTP/1.1', '101', '']);
  // The reason phrase keeps its spaces.
  assert.deepEqual(parseHttpHead('HTTP/1.1 101 Switching Protocols\r\n\r\n').start, ['HTTP/1.1', '101', 'Switching Protocols']);
  // Names like __proto__ do not reach the prototype.
  const p = parseHttpHead('GET / HTTP/1.1\r\n__proto__: x\r\n\r\n');
  assert.equal(p.headers['__proto__'], 'x');
  assert.equal(Object.getPrototypeOf(p.headers), null);
});

test('parseHttpHead refuses folded and malformed lines', () => {
  const bad = [
    'GET / HTTP/1.1\r\nHost: a\r\n continued\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\n\tcontinued\r\n\r\n',
    'GET / HTTP/1.1\r\nno colon here\r\n\r\n',
    'GET / HTTP/1.1\r\n: empty name\r\n\r\n',
    'GET / HTTP/1.1\r\nHost : a\r\n\r\n',
    'GET / HTTP/1.1\r\nBad Name: a\r\n\r\n',
    'GET / HTTP/1.1\r\nHo(st: a\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\nInjected: b\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\0\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\n\r\nX: after blank\r\n\r\n',
    'GET\r\nHost: a\r\n\r\n',
    ' GET / HTTP/1.1\r\n\r\n',
    '',
  ];
  for (const text of bad) assert.throws(() => parseHttpHead(text), HttpHeadError, JSON.stringify(text));
});

test('findHeadEnd finds the blank line', () => {
  assert.equal(findHeadEnd(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n')), -1);
  const text = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
  assert.equal(findHeadEnd(Buffer.from(text + '\x81\x00')), text.length);
});

test('findHeadEnd reports a bare LF at once, and rescans only from `from`', () => {
  assert.equal(findHeadEnd(Buffer.from('GET / HTTP/1.1\nHost')), BARE_LF);
  assert.equal(findHeadEnd(Buffer.from('\n')), BARE_LF);
  assert.equal(findHeadEnd(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\n')), BARE_LF);
  // A bare CR is not a line ending: it stays in the line, where parseHttpHead refuses it.
  assert.equal(findHeadEnd(Buffer.from('GET / HTTP/1.1\rHost: a\r\n')), HEAD_INCOMPLETE);
  // Fed one byte at a time, the answer is the same as for the whole head.
  const text = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\nrest');
  let result = HEAD_INCOMPLETE;
  for (let n = 1; n <= text.length && result === HEAD_INCOMPLETE; n++) result = findHeadEnd(text.subarray(0, n), n - 1);
  assert.equal(result, text.length - 4);
});

test('splitList and hasToken', () => {
  assert.deepEqual(splitList(undefined), []);
  assert.deepEqual(splitList(' a ,, b,c ,'), ['a', 'b', 'c']);
  assert.equal(hasToken('Keep-Alive, UPGRADE', 'upgrade'), true);
  assert.equal(hasToken('upgrade-insecure', 'upgrade'), false);
  assert.equal(hasToken(undefined, 'upgrade'), false);
});

// ---- extensions ----

test('parseExtensions: names, parameters with and without values, quoted values, case', () => {
  const offers = parseExtensions('permessage-deflate; client_max_window_bits; server_max_window_bits=10, Permessage-Deflate; Client_Max_Window_Bits="15" , x-foo');
  assert.equal(offers.length, 3);
  assert.equal(offers[0]!.name, 'permessage-deflate');
  assert.deepEqual([...offers[0]!.params], [
    ['client_max_window_bits', true],
    ['server_max_window_bits', '10'],
  ]);
  assert.equal(offers[0]!.hasDuplicate, false);
  assert.equal(offers[1]!.name, 'permessage-deflate');
  assert.deepEqual([...offers[1]!.params], [['client_max_window_bits', '15']]);
  assert.equal(offers[2]!.name, 'x-foo');
  assert.equal(offers[2]!.params.size, 0);
  assert.deepEqual(parseExtensions(undefined), []);
  assert.deepEqual(parseExtensions('  '), []);
  // Separators inside quotes do not split.
  assert.throws(() => parseExtensions('x; a="1,2"'), /invalid value/);
  assert.deepEqual([...parseExtensions('x; a = "b" ;c')[0]!.params], [
    ['a', 'b'],
    ['c', true],
  ]);
});

test('parseExtensions flags repeated parameters', () => {
  const [o] = parseExtensions('permessage-deflate; server_no_context_takeover; SERVER_NO_CONTEXT_TAKEOVER');
  assert.equal(o!.hasDuplicate, true);
  const [p] = parseExtensions('permessage-deflate; server_max_window_bits=10; server_max_window_bits=11');
  assert.equal(p!.hasDuplicate, true);
  const [q] = parseExtensions('permessage-deflate; server_max_window_bits=10; client_max_window_bits=11');
  assert.equal(q!.hasDuplicate, false);
});

test('parseExtensions refuses bad syntax', () => {
  for (const bad of ['a b', 'x; =1', 'x; a=', 'x; a="', 'x; a="unterminated', 'x; a=b c', 'x; a="b c"', '"x"', 'x; a b=1', ';a']) {
    assert.throws(() => parseExtensions(bad), Error, bad);
  }
});

test('formatExtension round-trips through parseExtensions', () => {
  const params = new Map<string, string | true>([
    ['server_no_context_takeover', true],
    ['client_max_window_bits', '12'],
  ]);
  const text = formatExtension('permessage-deflate', params);
  assert.equal(text, 'permessage-deflate; server_no_context_takeover; client_max_window_bits=12');
  const [o] = parseExtensions(text);
  assert.deepEqual(o!.params, params);
});

test('parseHttpHead accepts a status line without a reason phrase', () => {
  const head = parseHttpHead('HTTP/1.1 101\r\nUpgrade: websocket\r\n\r\n');
  assert.deepEqual(head.start, ['HTTP/1.1', '101', '']);
  assert.throws(() => parseHttpHead('HTTP/1.1  101\r\n\r\n'), HttpHeadError);
});
