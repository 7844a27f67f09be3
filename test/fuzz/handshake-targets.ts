/**
 * Fuzz targets for the opening handshake: the HTTP head parser and request validation
 * (server), response validation (client), and Sec-WebSocket-Extensions parsing and
 * permessage-deflate negotiation. Properties:
 * - only the documented errors are thrown (HttpHeadError, HandshakeError,
 *   ExtensionHeaderError); validation answers with one of the statuses it may use;
 * - finding the end of the head gives the same answer however the bytes arrive;
 * - an accepted request round-trips: the 101 we build parses and the client's checks
 *   accept it, with the subprotocol and extension we chose;
 * - an extension header that parses formats back to the same offers, and a negotiated
 *   permessage-deflate answer is one the client accepts with the same agreement.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  acceptDeflateOffers,
  acceptDeflateResponse,
  acceptKey,
  BARE_LF,
  buildAcceptResponse,
  buildDeflateOffer,
  ExtensionHeaderError,
  findHeadEnd,
  formatExtension,
  HandshakeError,
  HEAD_INCOMPLETE,
  HttpHeadError,
  parseExtensions,
  parseHttpHead,
  validateUpgradeRequest,
  validateUpgradeResponse,
  type DeflateClientOptions,
  type DeflateServerOptions,
} from '../../src/protocol/index.js';
import { chunked, FuzzInput } from './fuzz-input.js';

const REQUEST_STATUSES = new Set([400, 405, 426, 505]);

function expectOnly<T>(kind: new (...args: never[]) => Error, f: () => T): T | undefined {
  try {
    return f();
  } catch (err) {
    assert.ok(err instanceof kind, `unexpected ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    return undefined;
  }
}

/** The server's handshake path on one request head. */
function runRequest(bytes: Uint8Array): void {
  const input = new FuzzInput(bytes);
  const mode = input.byte() & 3;
  const seed = input.byte();
  const raw = Buffer.from(input.rest());
  // The end of the head, scanned as the head reader does (each chunk scanned once).
  const whole = findHeadEnd(raw);
  let grown = 0;
  let found = HEAD_INCOMPLETE;
  for (const c of chunked(raw, mode, seed)) {
    const before = grown;
    grown += c.length;
    found = findHeadEnd(raw.subarray(0, grown), before);
    if (found !== HEAD_INCOMPLETE) break;
  }
  assert.equal(found, whole, 'the same end of head however the bytes arrive');
  if (whole === BARE_LF || whole === HEAD_INCOMPLETE) return;
  const head = expectOnly(HttpHeadError, () => parseHttpHead(raw.toString('latin1', 0, whole)));
  if (head === undefined) return;
  const checked = validateUpgradeRequest({ method: head.start[0], target: head.start[1], version: head.start[2], headers: head.headers, repeated: head.repeated });
  if (!checked.ok) {
    assert.ok(REQUEST_STATUSES.has(checked.status), `status ${checked.status}`);
    return;
  }
  // Accepted: choose the first subprotocol and negotiate deflate, then check the 101 as a client would.
  const protocol = checked.protocols[0];
  const offers = expectOnly(ExtensionHeaderError, () => parseExtensions(checked.extensions));
  const deflate = offers === undefined ? null : acceptDeflateOffers(offers, { serverNoContextTakeover: true });
  const response = buildAcceptResponse(checked.key, protocol, deflate?.response);
  const parsed = parseHttpHead(response);
  assert.equal(parsed.headers['sec-websocket-accept'], acceptKey(checked.key));
  const res = validateUpgradeResponse(parsed, checked.key, checked.protocols, deflate ? ['permessage-deflate'] : []);
  assert.equal(res.protocol, protocol ?? '');
  if (deflate) assert.equal(res.extensions[0]?.name, 'permessage-deflate');
}

/** The client's checks on a response head it did not expect. */
function runResponse(bytes: Uint8Array): void {
  const raw = Buffer.from(bytes);
  const end = findHeadEnd(raw);
  if (end < 0) return;
  const head = expectOnly(HttpHeadError, () => parseHttpHead(raw.toString('latin1', 0, end)));
  if (head === undefined) return;
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  expectOnly(HandshakeError, () => validateUpgradeResponse(head, key, ['chat', 'v2'], ['permessage-deflate']));
}

/** Extension header parsing, formatting and permessage-deflate negotiation. */
function runExtensions(bytes: Uint8Array): void {
  const input = new FuzzInput(bytes);
  const o = input.byte();
  const server: DeflateServerOptions = {
    serverNoContextTakeover: (o & 1) === 1,
    clientNoContextTakeover: (o & 2) === 2,
    serverMaxWindowBits: o & 4 ? 8 + (input.byte() & 7) : undefined,
    clientMaxWindowBits: o & 8 ? 8 + (input.byte() & 7) : undefined,
  };
  const header = Buffer.from(input.rest()).toString('latin1');
  const offers = expectOnly(ExtensionHeaderError, () => parseExtensions(header));
  if (offers === undefined) return;
  // Formatting what parsed gives the same offers back.
  const again = parseExtensions(offers.map((e) => formatExtension(e.name, e.params)).join(', '));
  assert.deepEqual(again.map((e) => [e.name, [...e.params]]), offers.map((e) => [e.name, [...e.params]]));
  const accepted = acceptDeflateOffers(offers, server);
  if (accepted === null) return;
  const a = accepted.agreement;
  for (const bits of [a.serverMaxWindowBits, a.clientMaxWindowBits]) assert.ok(Number.isInteger(bits) && bits >= 8 && bits <= 15, `window bits ${bits}`);
  const [response] = parseExtensions(accepted.response);
  assert.equal(response?.name, 'permessage-deflate');
}

/**
 * A client offer built from options, negotiated by a server: the client accepts the
 * answer, and the two agreements are compatible. Each side may be stricter than the other
 * knows (a server compressing with a smaller window than the client allows is fine), but
 * never looser: whoever resets a context must know the peer does not use it, and every
 * inflating window must cover the peer's compressing window.
 */
function runNegotiation(bytes: Uint8Array): void {
  const input = new FuzzInput(bytes);
  const bits = () => (input.bool() ? 8 + (input.byte() & 7) : undefined);
  const client: DeflateClientOptions = { serverNoContextTakeover: input.bool(), clientNoContextTakeover: input.bool(), serverMaxWindowBits: bits(), clientMaxWindowBits: bits() };
  const options: DeflateServerOptions = { serverNoContextTakeover: input.bool(), clientNoContextTakeover: input.bool(), serverMaxWindowBits: bits(), clientMaxWindowBits: bits() };
  const accepted = acceptDeflateOffers(parseExtensions(buildDeflateOffer(client)), options);
  if (accepted === null) return;
  const [response] = parseExtensions(accepted.response);
  const server = accepted.agreement;
  const seen = acceptDeflateResponse(response!, client);
  assert.ok(!seen.serverNoContextTakeover || server.serverNoContextTakeover, 'the client resets its inflater only if the server resets its compressor');
  assert.ok(!server.clientNoContextTakeover || seen.clientNoContextTakeover, 'the server resets its inflater only if the client resets its compressor');
  assert.ok(server.serverMaxWindowBits <= seen.serverMaxWindowBits, "the client's inflater window covers the server's compressor");
  assert.ok(seen.clientMaxWindowBits <= server.clientMaxWindowBits, "the server's inflater window covers the client's compressor");
  assert.equal(seen.clientNoContextTakeover, client.clientNoContextTakeover === true || server.clientNoContextTakeover, 'the client knows whether it must reset');
}

// --- Generators ---------------------------------------------------------------------

const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}$/);
const headerName = fc.oneof(fc.constantFrom('Host', 'Upgrade', 'Connection', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Sec-WebSocket-Protocol', 'Sec-WebSocket-Extensions', 'Origin', 'host'), token);
const headerValue = fc.oneof(
  fc.constantFrom('websocket', 'Upgrade', 'keep-alive, Upgrade', '13', '8', 'dGhlIHNhbXBsZSBub25jZQ==', '127.0.0.1', 'chat, v2', 'permessage-deflate; client_max_window_bits', 'permessage-deflate; server_max_window_bits=10, permessage-deflate', ''),
  fc.string({ maxLength: 40 }),
);
const lineEnd = fc.oneof({ weight: 12, arbitrary: fc.constant('\r\n') }, { weight: 1, arbitrary: fc.constantFrom('\n', '\r', '\r\r\n', ' \r\n') });
const requestArb = fc
  .tuple(
    fc.uint8Array({ minLength: 2, maxLength: 2 }),
    fc.constantFrom('GET', 'GET', 'POST', 'get', ''),
    fc.constantFrom('/', '/chat?x=1', '*', 'http://a/b', ''),
    fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 ', 'HTTP/11'),
    fc.array(fc.tuple(headerName, fc.constantFrom(': ', ':', ' : ', ':\t'), headerValue, lineEnd), { maxLength: 10 }),
    fc.boolean(),
    lineEnd,
  )
  .map(([prefix, method, target, version, headers, standard, end]) => {
    const base = standard
      ? [['Host', ': ', '127.0.0.1', '\r\n'], ['Upgrade', ': ', 'websocket', '\r\n'], ['Connection', ': ', 'Upgrade', '\r\n'], ['Sec-WebSocket-Key', ': ', 'dGhlIHNhbXBsZSBub25jZQ==', '\r\n'], ['Sec-WebSocket-Version', ': ', '13', '\r\n']]
      : [];
    const lines = [...base, ...headers].map(([n, sep, v, e]) => `${n}${sep}${v}${e}`).join('');
    return new Uint8Array(Buffer.concat([Buffer.from(prefix), Buffer.from(`${method} ${target} ${version}\r\n${lines}${end}`, 'latin1')]));
  });

const param = fc.oneof(
  fc.constantFrom('server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits', 'client_max_window_bits', 'server_max_window_bits=10', 'client_max_window_bits=8', 'client_max_window_bits="15"', 'server_max_window_bits=08', 'x=1'),
  token,
);
const extensionHeader = fc
  .array(fc.tuple(fc.constantFrom('permessage-deflate', 'permessage-deflate', 'x-webkit-deflate-frame', ''), fc.array(param, { maxLength: 4 })), { maxLength: 4 })
  .map((elems) => elems.map(([n, ps]) => [n, ...ps].join('; ')).join(', '));

export const handshakeTargets = [
  {
    name: 'http-request',
    description: 'HTTP head parser and upgrade request validation (server), the 101 round trip',
    generate: () => requestArb,
    run: runRequest,
  },
  {
    name: 'http-response',
    description: 'response head parsing and validation (client)',
    generate: () => requestArb.map((b) => new Uint8Array(Buffer.from(Buffer.from(b).toString('latin1').replace(/^[^\r\n]*/, 'HTTP/1.1 101 Switching Protocols'), 'latin1'))),
    run: runResponse,
  },
  {
    name: 'extensions',
    description: 'Sec-WebSocket-Extensions parsing and formatting, permessage-deflate offers accepted by the server',
    generate: () => fc.tuple(fc.uint8Array({ minLength: 3, maxLength: 3 }), extensionHeader).map(([o, h]) => new Uint8Array(Buffer.concat([Buffer.from(o), Buffer.from(h, 'latin1')]))),
    run: runExtensions,
  },
  {
    name: 'deflate-negotiation',
    description: 'client offers from options against server options: both sides agree',
    generate: () => fc.uint8Array({ minLength: 8, maxLength: 16 }),
    run: runNegotiation,
  },
];
