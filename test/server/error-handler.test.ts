/**
 * The server's error handler: a hook of the application that throws during an upgrade
 * (verify, selectProtocol, an origins or path function) is reported there, with the
 * request, while the client gets its HTTP answer; without a handler, on the console.
 */
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer, type ServerOptions, type UpgradeRequest } from '../../src/index.js';
import { rawRequest, startServer, upgradeRequest } from './util.js';

describe('error handler', () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanup) await c();
  });

  async function serverWith(options: ServerOptions<{ name: string }>) {
    const reported: Array<{ error: unknown; request: UpgradeRequest<{ name: string }> | undefined }> = [];
    const s = await startServer<{ name: string }>({ error: (error, request) => reported.push({ error, request }), ...options });
    cleanup.push(() => s.server.close({ timeout: 100 }));
    return { ...s, reported };
  }

  test('verify throwing: 500 to the client, the error and the request to the handler', async () => {
    const boom = new Error('verify broke');
    const { port, reported } = await serverWith({ verify: () => { throw boom; } });
    const res = await rawRequest(port, upgradeRequest({ path: '/chat?room=1' }));
    assert.equal(res.status, 500);
    assert.equal(reported.length, 1);
    assert.equal(reported[0]!.error, boom);
    assert.equal(reported[0]!.request?.path, '/chat');
  });

  test('verify rejecting: reported the same way', async () => {
    const boom = new Error('verify rejected');
    const { port, reported } = await serverWith({ verify: async () => { throw boom; } });
    assert.equal((await rawRequest(port, upgradeRequest())).status, 500);
    assert.equal(reported.length, 1);
    assert.equal(reported[0]!.error, boom);
  });

  test('selectProtocol and an origins function throwing: 500 and reported', async () => {
    const { port, reported } = await serverWith({
      selectProtocol: () => { throw new Error('select broke'); },
      origins: (origin) => {
        if (origin === 'https://bad.example') throw new Error('origins broke');
        return true;
      },
    });
    assert.equal((await rawRequest(port, upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'chat' } }))).status, 500);
    assert.equal((await rawRequest(port, upgradeRequest({ headers: { Origin: 'https://bad.example' } }))).status, 500);
    assert.deepEqual(reported.map((r) => (r.error as Error).message), ['select broke', 'origins broke']);
    assert.equal(reported[1]!.request?.origin, 'https://bad.example');
  });

  test('a path function throwing: 404 and reported without a request', async () => {
    const { port, reported } = await serverWith({ path: () => { throw new Error('path broke'); } });
    assert.equal((await rawRequest(port, upgradeRequest({ path: '/x' }))).status, 404);
    assert.equal(reported.length, 1);
    assert.equal((reported[0]!.error as Error).message, 'path broke');
    assert.equal(reported[0]!.request, undefined);
  });

  test('without a handler the error goes to console.error, naming the hook; a throwing handler too', async (t: TestContext) => {
    const logged: unknown[][] = [];
    t.mock.method(console, 'error', (...args: unknown[]) => void logged.push(args));
    const plain = await startServer({ verify: () => { throw new Error('no handler'); } });
    cleanup.push(() => plain.server.close({ timeout: 100 }));
    assert.equal((await rawRequest(plain.port, upgradeRequest())).status, 500);
    const broken = await startServer({ verify: () => { throw new Error('first'); }, error: () => { throw new Error('handler broke'); } });
    cleanup.push(() => broken.server.close({ timeout: 100 }));
    assert.equal((await rawRequest(broken.port, upgradeRequest())).status, 500);
    assert.equal(logged.length, 2);
    assert.match(String(logged[0]![0]), /verify hook threw/);
    assert.equal((logged[0]![1] as Error).message, 'no handler');
    assert.match(String(logged[1]![0]), /error handler threw/);
    assert.equal((logged[1]![1] as Error).message, 'handler broke');
  });

  test('error must be a function', () => {
    assert.throws(() => new WebSocketServer({ error: 'nope' as never }), /^TypeError: error must be a function$/);
  });
});
