/**
 * docs/protocol-vectors.json against the real server: every vector with every codec it
 * names, over real WebSockets, on the conformance hub's configuration (the same code as
 * `tether serve --realtime --conformance`); and the encodings byte for byte.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { addConformanceHandlers, conformanceOptions } from '../../src/cli/conformance-hub.js';
import { jsonCodec, msgpackCodec, RealtimeServer } from '../../src/realtime/index.js';
import { playVector, toNotation, toValue, type VectorFile } from './vector-runner.js';

const FILE = new URL('../../../docs/protocol-vectors.json', import.meta.url);
const vectors = JSON.parse(readFileSync(FILE, 'utf8')) as VectorFile;

describe('protocol test vectors (docs/protocol-vectors.json)', () => {
  let rt: RealtimeServer;
  let url = '';
  let runs = 0;

  before(async () => {
    rt = new RealtimeServer({ ...conformanceOptions(), websocket: { heartbeatInterval: 0 }, onError: () => {} });
    addConformanceHandlers(rt);
    const { port } = await rt.listen(0, '127.0.0.1');
    url = `ws://127.0.0.1:${port}/`;
  });
  after(() => rt.close({ timeout: 500 }));

  test('the file says what it is and which server it expects', () => {
    assert.equal(vectors.protocol, 'tether.v1');
    assert.equal(vectors.server, 'tether serve --realtime --conformance');
    assert.ok(vectors.vectors.length >= 40, `${vectors.vectors.length} vectors`);
    const names = new Set(vectors.vectors.map((v) => v.name));
    assert.equal(names.size, vectors.vectors.length, 'vector names are unique');
  });

  for (const e of vectors.encodings) {
    test(`encoding: ${e.name}`, () => {
      const value = toValue(e.value);
      assert.equal(jsonCodec.encode(value), e.json);
      assert.equal(Buffer.from(msgpackCodec.encode(value)).toString('hex'), e.msgpack);
      assert.deepStrictEqual(toNotation(jsonCodec.decode(e.json)), e.value);
      assert.deepStrictEqual(toNotation(msgpackCodec.decode(new Uint8Array(Buffer.from(e.msgpack, 'hex')))), e.value);
    });
  }

  for (const v of vectors.vectors) {
    for (const codec of v.codecs ?? (['json', 'msgpack'] as const)) {
      test(`${v.name} (${codec})`, { timeout: 15_000 }, () => playVector(v, codec, url, `r${++runs}${codec[0]}`));
    }
  }
});
