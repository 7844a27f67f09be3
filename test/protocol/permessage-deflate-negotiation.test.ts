import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptDeflateOffers,
  acceptDeflateResponse,
  buildDeflateOffer,
  parseExtensions,
  validateDeflateOptions,
  type DeflateAgreement,
  type DeflateClientOptions,
  type DeflateServerOptions,
} from '../../src/protocol/index.js';

const DEFAULT: DeflateAgreement = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};
const agreement = (over: Partial<DeflateAgreement> = {}): DeflateAgreement => ({ ...DEFAULT, ...over });

interface ServerCase {
  name: string;
  header: string;
  options?: DeflateServerOptions;
  /** null: every offer refused. */
  expect: { response: string; agreement: DeflateAgreement } | null;
}

const serverCases: ServerCase[] = [
  {
    name: "Chromium's offer",
    header: 'permessage-deflate; client_max_window_bits',
    expect: { response: 'permessage-deflate', agreement: agreement() },
  },
  {
    name: "Firefox's offer",
    header: 'permessage-deflate',
    expect: { response: 'permessage-deflate', agreement: agreement() },
  },
  {
    name: 'other extensions are ignored',
    header: 'x-foo; bar, permessage-deflate',
    expect: { response: 'permessage-deflate', agreement: agreement() },
  },
  { name: 'no permessage-deflate offer', header: 'x-foo, x-webkit-deflate-frame', expect: null },
  { name: 'empty header', header: '', expect: null },
  {
    name: 'first offer invalid (unknown param), second accepted',
    header: 'permessage-deflate; foo, permessage-deflate; server_no_context_takeover',
    expect: {
      response: 'permessage-deflate; server_no_context_takeover',
      agreement: agreement({ serverNoContextTakeover: true }),
    },
  },
  {
    name: 'first acceptable offer wins',
    header: 'permessage-deflate; server_max_window_bits=10, permessage-deflate',
    expect: {
      response: 'permessage-deflate; server_max_window_bits=10',
      agreement: agreement({ serverMaxWindowBits: 10 }),
    },
  },
  { name: 'duplicate parameter', header: 'permessage-deflate; server_no_context_takeover; server_no_context_takeover', expect: null },
  { name: 'duplicate window bits', header: 'permessage-deflate; client_max_window_bits=10; client_max_window_bits=10', expect: null },
  {
    name: 'duplicate then valid offer',
    header: 'permessage-deflate; client_max_window_bits; client_max_window_bits, permessage-deflate',
    expect: { response: 'permessage-deflate', agreement: agreement() },
  },
  { name: 'unknown parameter', header: 'permessage-deflate; foo=1', expect: null },
  { name: 'server_no_context_takeover with value', header: 'permessage-deflate; server_no_context_takeover=1', expect: null },
  { name: 'client_no_context_takeover with value', header: 'permessage-deflate; client_no_context_takeover=true', expect: null },
  { name: 'server_max_window_bits without value', header: 'permessage-deflate; server_max_window_bits', expect: null },
  { name: 'server_max_window_bits=16', header: 'permessage-deflate; server_max_window_bits=16', expect: null },
  { name: 'server_max_window_bits=7', header: 'permessage-deflate; server_max_window_bits=7', expect: null },
  { name: 'server_max_window_bits=0', header: 'permessage-deflate; server_max_window_bits=0', expect: null },
  { name: 'server_max_window_bits=08 (leading zero)', header: 'permessage-deflate; server_max_window_bits=08', expect: null },
  { name: 'server_max_window_bits=010 (leading zero)', header: 'permessage-deflate; server_max_window_bits=010', expect: null },
  { name: 'server_max_window_bits=+9', header: 'permessage-deflate; server_max_window_bits=+9', expect: null },
  { name: 'server_max_window_bits=9.0', header: 'permessage-deflate; server_max_window_bits=9.0', expect: null },
  { name: 'server_max_window_bits=abc', header: 'permessage-deflate; server_max_window_bits=abc', expect: null },
  { name: 'server_max_window_bits quoted 16', header: 'permessage-deflate; server_max_window_bits="16"', expect: null },
  {
    name: 'server_max_window_bits quoted 12',
    header: 'permessage-deflate; server_max_window_bits="12"',
    expect: { response: 'permessage-deflate; server_max_window_bits=12', agreement: agreement({ serverMaxWindowBits: 12 }) },
  },
  { name: 'client_max_window_bits=16', header: 'permessage-deflate; client_max_window_bits=16', expect: null },
  { name: 'client_max_window_bits=7', header: 'permessage-deflate; client_max_window_bits=7', expect: null },
  { name: 'client_max_window_bits=09 (leading zero)', header: 'permessage-deflate; client_max_window_bits=09', expect: null },
  {
    name: 'client_max_window_bits=10 offered, not configured: recorded, not answered',
    header: 'permessage-deflate; client_max_window_bits=10',
    expect: { response: 'permessage-deflate', agreement: agreement({ clientMaxWindowBits: 10 }) },
  },
  {
    name: 'client_max_window_bits=8 offered, not configured (server inflates with 8: fine)',
    header: 'permessage-deflate; client_max_window_bits=8',
    expect: { response: 'permessage-deflate', agreement: agreement({ clientMaxWindowBits: 8 }) },
  },
  {
    name: 'server_max_window_bits=15 offered',
    header: 'permessage-deflate; server_max_window_bits=15',
    expect: { response: 'permessage-deflate; server_max_window_bits=15', agreement: agreement() },
  },
  {
    name: 'server_max_window_bits min(offered, configured): configured smaller',
    header: 'permessage-deflate; server_max_window_bits=12',
    options: { serverMaxWindowBits: 10 },
    expect: { response: 'permessage-deflate; server_max_window_bits=10', agreement: agreement({ serverMaxWindowBits: 10 }) },
  },
  {
    name: 'server_max_window_bits min(offered, configured): offered smaller',
    header: 'permessage-deflate; server_max_window_bits=9',
    options: { serverMaxWindowBits: 13 },
    expect: { response: 'permessage-deflate; server_max_window_bits=9', agreement: agreement({ serverMaxWindowBits: 9 }) },
  },
  {
    name: 'configured server window used silently when not offered',
    header: 'permessage-deflate; client_max_window_bits',
    options: { serverMaxWindowBits: 11 },
    expect: { response: 'permessage-deflate', agreement: agreement({ serverMaxWindowBits: 11 }) },
  },
  // A window of 8 is negotiated like any other (the compressor uses zlib's 9-bit window,
  // whose references reach at most 250 bytes back).
  { name: 'window 8: client asks server_max_window_bits=8', header: 'permessage-deflate; server_max_window_bits=8', expect: { response: 'permessage-deflate; server_max_window_bits=8', agreement: agreement({ serverMaxWindowBits: 8 }) } },
  {
    name: 'window 8: configured 8, not offered: used silently',
    header: 'permessage-deflate',
    options: { serverMaxWindowBits: 8 },
    expect: { response: 'permessage-deflate', agreement: agreement({ serverMaxWindowBits: 8 }) },
  },
  {
    name: 'window 8: configured 8, offered 12: answered 8',
    header: 'permessage-deflate; server_max_window_bits=12',
    options: { serverMaxWindowBits: 8 },
    expect: { response: 'permessage-deflate; server_max_window_bits=8', agreement: agreement({ serverMaxWindowBits: 8 }) },
  },
  // no_context_takeover
  {
    name: 'server_no_context_takeover configured',
    header: 'permessage-deflate; client_max_window_bits',
    options: { serverNoContextTakeover: true },
    expect: {
      response: 'permessage-deflate; server_no_context_takeover',
      agreement: agreement({ serverNoContextTakeover: true }),
    },
  },
  {
    name: 'client_no_context_takeover offered',
    header: 'permessage-deflate; client_no_context_takeover',
    expect: {
      response: 'permessage-deflate; client_no_context_takeover',
      agreement: agreement({ clientNoContextTakeover: true }),
    },
  },
  {
    name: 'client_no_context_takeover configured (asked in response)',
    header: 'permessage-deflate',
    options: { clientNoContextTakeover: true },
    expect: {
      response: 'permessage-deflate; client_no_context_takeover',
      agreement: agreement({ clientNoContextTakeover: true }),
    },
  },
  // client_max_window_bits configured
  {
    name: 'client window configured, offered without value',
    header: 'permessage-deflate; server_no_context_takeover; client_max_window_bits',
    options: { clientMaxWindowBits: 10 },
    expect: {
      response: 'permessage-deflate; server_no_context_takeover; client_max_window_bits=10',
      agreement: agreement({ serverNoContextTakeover: true, clientMaxWindowBits: 10 }),
    },
  },
  {
    name: 'client window configured, offered smaller value',
    header: 'permessage-deflate; client_max_window_bits=9',
    options: { clientMaxWindowBits: 12 },
    expect: { response: 'permessage-deflate; client_max_window_bits=9', agreement: agreement({ clientMaxWindowBits: 9 }) },
  },
  {
    name: 'client window configured 15, offered without value',
    header: 'permessage-deflate; client_max_window_bits',
    options: { clientMaxWindowBits: 15 },
    expect: { response: 'permessage-deflate; client_max_window_bits=15', agreement: agreement() },
  },
  {
    name: 'client window configured 15, not offered: accepted',
    header: 'permessage-deflate',
    options: { clientMaxWindowBits: 15 },
    expect: { response: 'permessage-deflate', agreement: agreement() },
  },
  {
    name: 'client window limit configured, Firefox offer lacks it: refused',
    header: 'permessage-deflate',
    options: { clientMaxWindowBits: 10 },
    expect: null,
  },
  {
    name: 'client window limit configured: first offer lacks it, second has it',
    header: 'permessage-deflate, permessage-deflate; client_max_window_bits',
    options: { clientMaxWindowBits: 10 },
    expect: { response: 'permessage-deflate; client_max_window_bits=10', agreement: agreement({ clientMaxWindowBits: 10 }) },
  },
  {
    name: 'everything',
    header:
      'permessage-deflate; client_no_context_takeover; server_no_context_takeover; server_max_window_bits=14; client_max_window_bits=13',
    options: { serverMaxWindowBits: 12, clientMaxWindowBits: 11 },
    expect: {
      response:
        'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11',
      agreement: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 12, clientMaxWindowBits: 11 },
    },
  },
  {
    name: 'parameter names are case-insensitive (parser lowercases)',
    header: 'Permessage-Deflate; Server_No_Context_Takeover',
    expect: {
      response: 'permessage-deflate; server_no_context_takeover',
      agreement: agreement({ serverNoContextTakeover: true }),
    },
  },
];

for (const c of serverCases) {
  test(`server: ${c.name}`, () => {
    const result = acceptDeflateOffers(parseExtensions(c.header), c.options);
    assert.deepEqual(result, c.expect);
    if (result !== null) {
      // The response must be accepted by a client that made this offer.
      const [parsed] = parseExtensions(result.response);
      assert.ok(parsed);
      assert.equal(parsed.name, 'permessage-deflate');
    }
  });
}

test('server: default options argument', () => {
  assert.deepEqual(acceptDeflateOffers(parseExtensions('permessage-deflate')), {
    response: 'permessage-deflate',
    agreement: DEFAULT,
  });
});

// --- client ---

test('client: buildDeflateOffer', () => {
  const table: [DeflateClientOptions | undefined, string][] = [
    [undefined, 'permessage-deflate; client_max_window_bits'],
    [{}, 'permessage-deflate; client_max_window_bits'],
    [{ clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=10'],
    [{ clientMaxWindowBits: 8 }, 'permessage-deflate; client_max_window_bits=8'],
    [{ serverMaxWindowBits: 8 }, 'permessage-deflate; server_max_window_bits=8; client_max_window_bits'],
    [
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 12, clientMaxWindowBits: 11 },
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11',
    ],
    [{ serverNoContextTakeover: false, clientNoContextTakeover: false }, 'permessage-deflate; client_max_window_bits'],
  ];
  for (const [options, expected] of table) {
    const offer = buildDeflateOffer(options);
    assert.equal(offer, expected);
    // Our own server accepts our own offer.
    assert.notEqual(acceptDeflateOffers(parseExtensions(offer)), null, offer);
  }
});

function response(header: string) {
  const [r] = parseExtensions(header);
  assert.ok(r);
  return r;
}

const clientOk: [string, DeflateClientOptions, DeflateAgreement][] = [
  ['permessage-deflate', {}, DEFAULT],
  ['permessage-deflate; server_no_context_takeover', {}, agreement({ serverNoContextTakeover: true })],
  ['permessage-deflate; client_no_context_takeover', {}, agreement({ clientNoContextTakeover: true })],
  ['permessage-deflate', { clientNoContextTakeover: true }, agreement({ clientNoContextTakeover: true })],
  ['permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: true }, agreement({ serverNoContextTakeover: true })],
  ['permessage-deflate; server_max_window_bits=10', {}, agreement({ serverMaxWindowBits: 10 })],
  ['permessage-deflate; server_max_window_bits=8', {}, agreement({ serverMaxWindowBits: 8 })],
  ['permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 12 }, agreement({ serverMaxWindowBits: 12 })],
  ['permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 12 }, agreement({ serverMaxWindowBits: 9 })],
  ['permessage-deflate; client_max_window_bits=10', {}, agreement({ clientMaxWindowBits: 10 })],
  ['permessage-deflate; client_max_window_bits=9', {}, agreement({ clientMaxWindowBits: 9 })],
  ['permessage-deflate; client_max_window_bits=11', { clientMaxWindowBits: 11 }, agreement({ clientMaxWindowBits: 11 })],
  ['permessage-deflate', { clientMaxWindowBits: 11 }, agreement({ clientMaxWindowBits: 11 })],
  ['permessage-deflate', { clientMaxWindowBits: 8 }, agreement({ clientMaxWindowBits: 8 })],
  [
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=10',
    { serverNoContextTakeover: true, serverMaxWindowBits: 12, clientMaxWindowBits: 12 },
    { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 10 },
  ],
];

for (const [header, options, expected] of clientOk) {
  test(`client accepts: ${header} for ${JSON.stringify(options)}`, () => {
    assert.deepEqual(acceptDeflateResponse(response(header), options), expected);
  });
}

test('client: default options argument', () => {
  assert.deepEqual(acceptDeflateResponse(response('permessage-deflate')), DEFAULT);
});

const clientBad: [string, DeflateClientOptions, RegExp][] = [
  ['x-other', {}, /unexpected extension "x-other"/],
  ['permessage-deflate; server_no_context_takeover; server_no_context_takeover', {}, /duplicate parameter/],
  ['permessage-deflate; foo', {}, /unknown parameter "foo"/],
  ['permessage-deflate; server_no_context_takeover=1', {}, /server_no_context_takeover must not have a value/],
  ['permessage-deflate; client_no_context_takeover=1', {}, /client_no_context_takeover must not have a value/],
  ['permessage-deflate; server_max_window_bits', {}, /server_max_window_bits requires a value/],
  ['permessage-deflate; server_max_window_bits=16', {}, /server_max_window_bits=16 is not an integer from 8 to 15/],
  ['permessage-deflate; server_max_window_bits=7', {}, /server_max_window_bits=7 is not/],
  ['permessage-deflate; server_max_window_bits=08', {}, /server_max_window_bits=08 is not/],
  ['permessage-deflate; server_max_window_bits=13', { serverMaxWindowBits: 12 }, /server_max_window_bits=13 is larger than the offered 12/],
  ['permessage-deflate', { serverMaxWindowBits: 12 }, /server_max_window_bits=12 was required but is missing/],
  ['permessage-deflate', { serverNoContextTakeover: true }, /server_no_context_takeover was required but is missing/],
  ['permessage-deflate; client_max_window_bits', {}, /client_max_window_bits requires a value/],
  ['permessage-deflate; client_max_window_bits=16', {}, /client_max_window_bits=16 is not an integer from 8 to 15/],
  ['permessage-deflate; client_max_window_bits=7', {}, /client_max_window_bits=7 is not/],
  ['permessage-deflate; client_max_window_bits=010', {}, /client_max_window_bits=010 is not/],
  ['permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 11 }, /client_max_window_bits=12 is larger than the offered 11/],
  ['permessage-deflate; client_max_window_bits=9', { clientMaxWindowBits: 8 }, /client_max_window_bits=9 is larger than the offered 8/],
];

for (const [header, options, message] of clientBad) {
  test(`client rejects: ${header} for ${JSON.stringify(options)}`, () => {
    assert.throws(
      () => acceptDeflateResponse(response(header), options),
      (err: unknown) => err instanceof Error && /^invalid permessage-deflate response: /.test(err.message) && message.test(err.message),
    );
  });
}

test('round trip: server response accepted by the client that offered', () => {
  const pairs: [DeflateClientOptions, DeflateServerOptions][] = [
    [{}, {}],
    [{}, { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 10 }],
    [{ serverMaxWindowBits: 12, clientMaxWindowBits: 12 }, { serverMaxWindowBits: 10, clientMaxWindowBits: 9 }],
    [{ serverNoContextTakeover: true, serverMaxWindowBits: 9 }, { serverMaxWindowBits: 8 }],
    [{ serverMaxWindowBits: 14 }, { serverMaxWindowBits: 8 }],
    [{ clientNoContextTakeover: true }, { clientMaxWindowBits: 11 }],
  ];
  for (const [clientOptions, serverOptions] of pairs) {
    const server = acceptDeflateOffers(parseExtensions(buildDeflateOffer(clientOptions)), serverOptions);
    assert.ok(server, JSON.stringify([clientOptions, serverOptions]));
    const client = acceptDeflateResponse(response(server.response), clientOptions);
    const label = JSON.stringify([clientOptions, serverOptions]);
    // When the client did not limit the server's window, the server compresses with its
    // configured window without saying so, and the client inflates with 15 (a superset).
    assert.ok(client.serverMaxWindowBits >= server.agreement.serverMaxWindowBits, label);
    assert.deepEqual({ ...client, serverMaxWindowBits: 0 }, { ...server.agreement, serverMaxWindowBits: 0 }, label);
    if (clientOptions.serverMaxWindowBits !== undefined) {
      assert.equal(client.serverMaxWindowBits, server.agreement.serverMaxWindowBits, label);
    }
  }
});

test('round trip: a server limiting the client to 8 bits is accepted by our client', () => {
  const clientOptions: DeflateClientOptions = { clientMaxWindowBits: 8 };
  const offer = buildDeflateOffer(clientOptions);
  assert.equal(offer, 'permessage-deflate; client_max_window_bits=8');
  const server = acceptDeflateOffers(parseExtensions(offer), { clientMaxWindowBits: 8 });
  assert.deepEqual(server, {
    response: 'permessage-deflate; client_max_window_bits=8',
    agreement: agreement({ clientMaxWindowBits: 8 }),
  });
  assert.deepEqual(acceptDeflateResponse(response(server.response), clientOptions), agreement({ clientMaxWindowBits: 8 }));
});

// --- options validation ---

test('validateDeflateOptions accepts valid options', () => {
  const valid: unknown[] = [
    undefined,
    {},
    { serverNoContextTakeover: true, clientNoContextTakeover: false, serverMaxWindowBits: 8, clientMaxWindowBits: 15 },
    { threshold: 0, level: 0, memLevel: 1, maxContexts: 0 },
    { threshold: 1024, level: 9, memLevel: 9, maxContexts: 10 },
    { serverMaxWindowBits: undefined },
  ];
  for (const v of valid) assert.doesNotThrow(() => validateDeflateOptions(v, 'perMessageDeflate'), JSON.stringify(v));
});

test('validateDeflateOptions rejects invalid options with a TypeError naming the field', () => {
  const invalid: [unknown, RegExp][] = [
    [null, /^perMessageDeflate must be an object$/],
    [true, /^perMessageDeflate must be an object$/],
    [[], /^perMessageDeflate must be an object$/],
    [{ serverNoContextTakeover: 1 }, /perMessageDeflate\.serverNoContextTakeover must be a boolean/],
    [{ clientNoContextTakeover: 'yes' }, /perMessageDeflate\.clientNoContextTakeover must be a boolean/],
    [{ serverMaxWindowBits: 7 }, /perMessageDeflate\.serverMaxWindowBits must be an integer from 8 to 15/],
    [{ serverMaxWindowBits: 16 }, /perMessageDeflate\.serverMaxWindowBits/],
    [{ clientMaxWindowBits: 10.5 }, /perMessageDeflate\.clientMaxWindowBits/],
    [{ clientMaxWindowBits: '10' }, /perMessageDeflate\.clientMaxWindowBits/],
    [{ clientMaxWindowBits: NaN }, /perMessageDeflate\.clientMaxWindowBits/],
    [{ threshold: -1 }, /perMessageDeflate\.threshold must be an integer >= 0/],
    [{ threshold: 1.5 }, /perMessageDeflate\.threshold/],
    [{ threshold: Infinity }, /perMessageDeflate\.threshold/],
    [{ level: 10 }, /perMessageDeflate\.level must be an integer from 0 to 9/],
    [{ level: -1 }, /perMessageDeflate\.level/],
    [{ memLevel: 0 }, /perMessageDeflate\.memLevel must be an integer from 1 to 9/],
    [{ memLevel: 10 }, /perMessageDeflate\.memLevel/],
    [{ maxContexts: -1 }, /perMessageDeflate\.maxContexts must be an integer >= 0/],
    [{ maxContexts: 2.5 }, /perMessageDeflate\.maxContexts/],
    [{ windowBits: 10 }, /perMessageDeflate\.windowBits is not a known option/],
    [{ server_max_window_bits: 10 }, /perMessageDeflate\.server_max_window_bits is not a known option/],
  ];
  for (const [v, message] of invalid) {
    assert.throws(
      () => validateDeflateOptions(v, 'perMessageDeflate'),
      (err: unknown) => err instanceof TypeError && message.test(err.message),
      JSON.stringify(v),
    );
  }
});
