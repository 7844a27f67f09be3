import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as Y from 'yjs';
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { YjsServer, attachYjs, MessageType, SyncType } from '../../src/yjs/index.js';
import { encodeMessage } from '../../src/yjs/wire.js';
import { within } from '../helpers.js';
import { rawRequest, upgradeRequest } from '../server/util.js';
import { closeProvider, decodeAwareness, provider, RawPeer, startYjs, synced, until } from './yjs-util.js';

const isSync = (step: number) => (m: { type: number; step?: number }) => m.type === MessageType.Sync && m.step === step;
const isAwareness = (m: { type: number }) => m.type === MessageType.Awareness;

function docWith(text: string): Y.Doc {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, text);
  return doc;
}

test('sync: the server opens with step 1; step 1 is answered with step 2 holding the whole document', async () => {
  const { server, url } = await startYjs({ onDocument: (_name, doc) => doc.getText('t').insert(0, 'seeded') });
  try {
    const peer = await RawPeer.open(`${url}/a`);
    const first = await peer.next(() => true, 'first message');
    assert.equal(first.type, MessageType.Sync);
    assert.equal(first.step, SyncType.Step1);
    assert.deepEqual(first.payload, Y.encodeStateVector(server.document('a')!));

    const local = new Y.Doc();
    peer.send(encodeMessage([MessageType.Sync, SyncType.Step1], Y.encodeStateVector(local)));
    const step2 = await peer.next(isSync(SyncType.Step2), 'sync step 2');
    Y.applyUpdate(local, step2.payload!);
    assert.equal(local.getText('t').toString(), 'seeded');
    peer.close();
  } finally {
    await server.close({ timeout: 500 });
  }
});

test('updates: one peer\'s update reaches the others (not itself) and the server document; a step 2 from a client is applied', async () => {
  const { server, url } = await startYjs();
  try {
    const a = await RawPeer.open(`${url}/doc`);
    const b = await RawPeer.open(`${url}/doc`);
    const other = await RawPeer.open(`${url}/other`);
    await a.next(isSync(SyncType.Step1), 'a step 1');
    await b.next(isSync(SyncType.Step1), 'b step 1');

    const update = Y.encodeStateAsUpdate(docWith('hello'));
    a.send(encodeMessage([MessageType.Sync, SyncType.Update], update));
    const got = await b.next(isSync(SyncType.Update), 'update at b');
    const atB = new Y.Doc();
    Y.applyUpdate(atB, got.payload!);
    assert.equal(atB.getText('t').toString(), 'hello');
    assert.equal(server.document('doc')!.getText('t').toString(), 'hello');

    // A client's step 2 (what it has that the server lacks) is an update like any other.
    b.send(encodeMessage([MessageType.Sync, SyncType.Step2], Y.encodeStateAsUpdate(docWith('!'))));
    await a.next(isSync(SyncType.Update), 'update at a');
    assert.equal(server.document('doc')!.getText('t').length, 6);

    // Round trip through a query so that anything sent to a has arrived: it never got its own update back.
    a.send(encodeMessage([MessageType.QueryAwareness]));
    await a.next(isAwareness, 'awareness answer');
    assert.equal(a.received.filter(isSync(SyncType.Update)).length, 0);
    assert.equal(other.received.filter(isSync(SyncType.Update)).length, 0, 'another document hears nothing');
    assert.deepEqual(server.documents.sort(), ['doc', 'other']);
    for (const p of [a, b, other]) p.close();
  } finally {
    await server.close({ timeout: 500 });
  }
});

test('stock y-websocket providers on Tether\'s WebSocket: concurrent edits converge; a late joiner gets the whole document', async () => {
  const { server, url } = await startYjs();
  const p1 = provider(url, 'notes');
  const p2 = provider(url, 'notes');
  let p3: ReturnType<typeof provider> | undefined;
  try {
    await synced(p1, 'p1 synced');
    await synced(p2, 'p2 synced');
    const t1 = p1.doc.getText('body');
    const t2 = p2.doc.getText('body');
    // Concurrent: both edit before seeing each other's change.
    t1.insert(0, 'alpha ');
    t2.insert(0, 'beta ');
    await until(() => t1.toString() === t2.toString() && t1.length === 11, 5000, 'convergence');
    t1.insert(t1.length, 'end');
    await until(() => t2.toString().endsWith('end'), 5000, 'later edit');

    p3 = provider(url, 'notes');
    await synced(p3, 'late joiner synced');
    await until(() => p3!.doc.getText('body').toString() === t1.toString(), 5000, 'late joiner has the document');
    assert.equal(server.document('notes')!.getText('body').toString(), t1.toString());
    assert.equal(server.connections('notes'), 3);
  } finally {
    for (const p of [p1, p2, p3]) closeProvider(p);
    await server.close({ timeout: 500 });
  }
});

test('awareness: relayed to everyone (sender included), answered on query, and removed when a connection drops without saying so', async () => {
  const { server, url } = await startYjs();
  const aw = new Awareness(new Y.Doc());
  try {
    const a = await RawPeer.open(`${url}/room`);
    const b = await RawPeer.open(`${url}/room`);
    aw.setLocalState({ user: { name: 'Ada' } });
    a.send(encodeMessage([MessageType.Awareness], encodeAwarenessUpdate(aw, [aw.clientID])));
    for (const p of [a, b]) {
      const m = await p.next(isAwareness, 'awareness relayed');
      assert.deepEqual(decodeAwareness(m.payload!).map((e) => [e.id, e.state]), [[aw.clientID, { user: { name: 'Ada' } }]]);
    }
    assert.deepEqual([...server.awareness('room')!.getStates().keys()], [aw.clientID]);

    // A newcomer gets the current awareness without asking; a query gets it too.
    const c = await RawPeer.open(`${url}/room`);
    const onJoin = await c.next(isAwareness, 'awareness on join');
    assert.deepEqual(decodeAwareness(onJoin.payload!).map((e) => e.id), [aw.clientID]);
    c.send(encodeMessage([MessageType.QueryAwareness]));
    const answer = await c.next(isAwareness, 'query answer');
    assert.deepEqual(decodeAwareness(answer.payload!).map((e) => e.state), [{ user: { name: 'Ada' } }]);

    // a vanishes: the TCP connection is cut, no null state is sent.
    a.vanish();
    const removal = await b.next(isAwareness, 'removal relayed');
    assert.deepEqual(decodeAwareness(removal.payload!).map((e) => [e.id, e.state]), [[aw.clientID, null]]);
    await until(() => server.connections('room') === 2, 3000, 'a forgotten');
    assert.equal(server.awareness('room')!.getStates().size, 0);
    b.close();
    c.close();
  } finally {
    aw.destroy();
    await server.close({ timeout: 500 });
  }
});

test('bad messages close with the right code and change nothing', async () => {
  const { server, url } = await startYjs({ onDocument: (_n, doc) => doc.getText('t').insert(0, 'kept') });
  const cases: Array<[string, Uint8Array | string, number]> = [
    ['a text message', 'hello', 1003],
    ['an unknown message type', encodeMessage([9]), 1003],
    ['an unknown sync type', encodeMessage([MessageType.Sync, 7], new Uint8Array(0)), 1003],
    ['a truncated sync message', encodeMessage([MessageType.Sync, SyncType.Update, 40]), 1007],
    ['bytes after a message', new Uint8Array([...encodeMessage([MessageType.QueryAwareness]), 0]), 1007],
    ['a malformed update', encodeMessage([MessageType.Sync, SyncType.Update], truncatedUpdate()), 1007],
    ['a malformed state vector', encodeMessage([MessageType.Sync, SyncType.Step1], new Uint8Array([5, 0x80])), 1007],
    ['awareness that is not JSON', encodeMessage([MessageType.Awareness], awarenessWith('{nope')), 1007],
  ];
  try {
    for (const [what, bytes, code] of cases) {
      const p = await RawPeer.open(`${url}/d`);
      p.send(bytes);
      const closed = await within(p.closed, 5000, `close after ${what}`);
      assert.equal(closed.code, code, what);
    }
    assert.equal(server.document('d')!.getText('t').toString(), 'kept');
    assert.equal(server.awareness('d')!.getStates().size, 0);
    await until(() => server.connections('d') === 0, 3000, 'all gone');
  } finally {
    await server.close({ timeout: 500 });
  }
});

/** An update cut before its delete set: the structs alone would apply. */
function truncatedUpdate(): Uint8Array {
  const u = Y.encodeStateAsUpdate(docWith('this would be applied'));
  return u.subarray(0, u.length - 1);
}

/** An awareness update with one entry whose state is the given text. */
function awarenessWith(state: string): Uint8Array {
  const json = new TextEncoder().encode(state);
  return new Uint8Array([1, 7, 1, json.length, ...json]);
}

test('routing: only paths under the prefix; a bad name is a 400; past maxDocuments a new document is a 503', async () => {
  const { server, url } = await startYjs({ maxDocuments: 1 });
  const port = server.address()!.port;
  try {
    assert.equal((await rawRequest(port, upgradeRequest({ path: '/elsewhere/x' }))).status, 404);
    assert.equal((await rawRequest(port, upgradeRequest({ path: '/docs/' }))).status, 404);
    assert.equal((await rawRequest(port, upgradeRequest({ path: '/docs/%E0%A4%A' }))).status, 400);
    const a = await RawPeer.open(`${url}/first%20doc`);
    assert.deepEqual(server.documents, ['first doc']);
    assert.equal((await rawRequest(port, upgradeRequest({ path: '/docs/second' }))).status, 503);
    const again = await RawPeer.open(`${url}/first%20doc`);
    a.close();
    again.close();
  } finally {
    await server.close({ timeout: 500 });
  }
});

test('attachYjs on an http server shares it with plain HTTP; close() frees the documents', async () => {
  const http = createServer((_req, res) => res.end('page'));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const { port } = http.address() as AddressInfo;
  const yjs = attachYjs(http, { prefix: '/collab/', websocket: { heartbeatInterval: 0 } });
  const p = provider(`ws://127.0.0.1:${port}/collab`, 'x');
  try {
    await synced(p, 'synced through the http server');
    p.doc.getText('t').insert(0, 'hi');
    await until(() => yjs.document('x')?.getText('t').toString() === 'hi', 3000, 'server has the edit');
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`, { headers: { Connection: 'close' } })).text(), 'page');
  } finally {
    closeProvider(p);
    await yjs.close({ timeout: 500 });
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
  }
  assert.deepEqual(yjs.documents, []);
});

test('options are checked', () => {
  assert.throws(() => new YjsServer({ prefix: 'docs' }), /prefix/);
  assert.throws(() => new YjsServer({ maxDocuments: 0 }), /maxDocuments/);
  assert.throws(() => new YjsServer({ onDocument: 1 as never }), /onDocument/);
  assert.throws(() => new YjsServer({ nope: 1 } as never), /nope/);
  assert.throws(() => new YjsServer({ websocket: { maxPayload: -1 } }), /maxPayload/);
});
