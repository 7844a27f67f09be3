// Large compressed messages in slices (ZLIB_SLICE), in the sans-I/O engine: a connection
// whose "I/O layer" queues the slices for the test to run by hand, so that what happens
// between slices (held input, waiting sends, order, the shared zlib state) is checked
// deterministically. Also: ZlibRun in any number of steps gives the bytes of one pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { Opcode, PerMessageDeflate, SyncZlib, ZLIB_SLICE, ZlibRun, type DeflateAgreement } from '../../src/protocol/index.js';
import { Recorder, cframe } from './_harness.js';

const MiB = 1024 * 1024;
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const NO_TAKEOVER: DeflateAgreement = { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
const TAKEOVER: DeflateAgreement = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

/** A server-side connection whose slices wait in `pending` until the test runs them. */
class Sliced extends Recorder {
  pending = 0;
  paused = false;
  constructor(agreement: DeflateAgreement = NO_TAKEOVER, maxPayload = 64 * MiB) {
    super('server', maxPayload);
    this.enableDeflate(new PerMessageDeflate(agreement, 'server', { threshold: 16, level: 1, memLevel: 8 }));
  }
  protected override scheduleZlibSlice(): boolean {
    this.pending++;
    return true;
  }
  protected override pauseInput(): void {
    this.paused = true;
  }
  protected override resumeInput(): void {
    this.paused = false;
  }
  /** A new turn: fresh credit, as the server gives at each read. */
  feedTurn(...chunks: Buffer[]): this {
    this.zlibCredit = ZLIB_SLICE;
    return this.feed(...chunks);
  }
  /** Runs scheduled slices until none is left; returns how many ran. */
  drain(limit = 100_000): number {
    let n = 0;
    while (this.pending > 0 && n < limit) {
      this.pending--;
      n++;
      this.runZlibSlice();
    }
    return n;
  }
}

const deflate = (data: Buffer) => deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
const inflate = (payload: Buffer) => inflateRawSync(Buffer.concat([payload, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: 256 * MiB });

test('a large incoming message holds the input: what follows it in the chunk waits, then comes after it, in order', () => {
  const c = new Sliced();
  const big = Buffer.alloc(8 * MiB, 0x61);
  c.feedTurn(Buffer.concat([cframe(Opcode.Binary, deflate(big), { rsv: 4 }), cframe(Opcode.Ping, 'p'), cframe(Opcode.Text, 'after')]));
  assert.equal(c.events.length, 0, 'nothing delivered in the first turn');
  assert.equal(c.paused, true, 'the I/O layer was told to stop reading');
  assert.equal(c.pending, 1);
  // Bytes that arrive meanwhile are kept too.
  c.feedTurn(cframe(Opcode.Text, 'later'));
  assert.equal(c.events.length, 0);
  const slices = c.drain();
  assert.ok(slices >= 8 * MiB / ZLIB_SLICE / 2, `${slices} slices`);
  assert.deepEqual(c.events.map((e) => e.type), ['message', 'ping', 'message', 'message']);
  const first = c.events[0] as { data: Buffer };
  assert.ok(first.data.equals(big));
  assert.equal((c.events[2] as { data: string }).data, 'after');
  assert.equal((c.events[3] as { data: string }).data, 'later');
  assert.equal(c.paused, false, 'reading resumed');
  // The pong answers the ping after the message was delivered.
  assert.deepEqual(c.sentFrames().map((f) => f.opcode), [Opcode.Pong]);
});

test('small messages stay synchronous; the turn credit bounds the work of many in one read', () => {
  const c = new Sliced();
  const one = cframe(Opcode.Binary, deflate(Buffer.alloc(1000, 1)), { rsv: 4 });
  c.feedTurn(one);
  assert.equal(c.events.length, 1, 'a small message is delivered at once');
  assert.equal(c.pending, 0);
  // 100 messages of 64 KiB each in one read: about ZLIB_SLICE of work per turn.
  const many = Buffer.concat(Array.from({ length: 100 }, (_, i) => cframe(Opcode.Binary, deflate(Buffer.alloc(64 * 1024, i)), { rsv: 4 })));
  c.feedTurn(many);
  const firstTurn = c.events.length - 1;
  assert.ok(firstTurn >= 1 && firstTurn <= 3, `${firstTurn} messages in the first turn`);
  c.drain();
  assert.equal(c.events.length, 101);
  for (let i = 0; i < 100; i++) assert.equal((c.events[i + 1] as { data: Buffer }).data[0], i);
});

test('a large outgoing message: later sends and the close frame wait behind it, then go out in order', () => {
  const c = new Sliced();
  const big = Buffer.alloc(8 * MiB, 0x62);
  c.sendBinary(big);
  c.sendText('small');
  c.sendPrepared(Buffer.from([0x82, 0x01, 0x2a]));
  c.sendClose(1000, 'bye');
  assert.equal(c.sendText('too late'), false);
  assert.equal(c.sent.length, 0, 'nothing sent before the large message is compressed');
  c.drain();
  const frames = c.sentFrames();
  assert.deepEqual(frames.map((f) => [f.opcode, f.rsv]), [[Opcode.Binary, 4], [Opcode.Text, 0], [Opcode.Binary, 0], [Opcode.Close, 0]]);
  assert.ok(inflate(frames[0]!.payload).equals(big));
  assert.equal(frames[1]!.payload.toString(), 'small');
});

test('pings and pongs we send do not wait behind a large message', () => {
  const c = new Sliced();
  c.sendBinary(Buffer.alloc(4 * MiB));
  c.sendPing(Buffer.from('hb'));
  assert.deepEqual(c.sentFrames().map((f) => f.opcode), [Opcode.Ping]);
  c.drain();
  assert.deepEqual(c.sentFrames().map((f) => f.opcode), [Opcode.Ping, Opcode.Binary]);
});

test('a shared zlib state is detached while a run waits, so other connections keep working (and get identical frames)', () => {
  const a = new Sliced();
  const b = new Sliced();
  const big = Buffer.alloc(4 * MiB, 0x63);
  a.feedTurn(cframe(Opcode.Binary, deflate(big), { rsv: 4 }));
  assert.equal(a.events.length, 0);
  // b uses the shared inflater while a's run is half done.
  for (let i = 0; i < 5; i++) b.feedTurn(cframe(Opcode.Text, deflate(Buffer.from(`hello ${i} `.repeat(100))), { rsv: 4 }));
  assert.equal(b.events.length, 5);
  a.drain();
  assert.ok((a.events[0] as { data: Buffer }).data.equals(big));
  // After a's run, the shared state is clean: same input, same output.
  b.feedTurn(cframe(Opcode.Binary, deflate(big), { rsv: 4 }));
  b.drain();
  assert.ok((b.events[5] as { data: Buffer }).data.equals(big));
});

test('the connection failing or closing in the middle of a run drops it and what waited behind it', () => {
  const c = new Sliced();
  c.sendBinary(Buffer.alloc(4 * MiB));
  c.sendText('waiting');
  c.transportClosed();
  assert.equal(c.drain(), 1, 'the slice already scheduled runs and finds nothing to do');
  assert.equal(c.sent.length, 0);
  // A bomb over the limit found in a later slice fails with 1009, and nothing after it is read.
  const d = new Sliced(NO_TAKEOVER, 2 * MiB);
  d.feedTurn(Buffer.concat([cframe(Opcode.Binary, deflate(Buffer.alloc(16 * MiB)), { rsv: 4 }), cframe(Opcode.Text, 'after')]));
  d.drain();
  assert.deepEqual(d.events.map((e) => e.type), ['failure']);
  assert.equal((d.events[0] as { code: number }).code, 1009);
});

test('context takeover: a large message in slices keeps both contexts right for the messages after it', () => {
  const c = new Sliced(TAKEOVER);
  const msgs = [Buffer.from('abc'.repeat(100)), Buffer.alloc(3 * MiB, 0x64), Buffer.from('abc'.repeat(100))];
  for (const m of msgs) c.sendBinary(m);
  c.drain();
  // One inflate state for the server's messages, in order (it keeps the context).
  const inflater = new SyncZlib('inflate', {});
  const out = c.sentFrames().map((f) => inflater.process([f.payload, TAIL], Number.MAX_SAFE_INTEGER, 64));
  inflater.close();
  for (let i = 0; i < msgs.length; i++) assert.ok(out[i]!.equals(msgs[i]!), `message ${i}`);
});

test('ZlibRun: any sequence of step budgets gives the bytes of one pass (deflate and inflate)', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200_000 }),
      fc.integer({ min: 0, max: 10 }),
      fc.array(fc.integer({ min: 0, max: 70_000 }), { minLength: 1, maxLength: 20 }),
      (bytes, repeat, budgets) => {
        const data = Buffer.concat(Array.from({ length: repeat + 1 }, () => Buffer.from(bytes)));
        const once = new SyncZlib('deflate', { level: 1 }).process([data], Number.MAX_SAFE_INTEGER, 64);
        const z = new SyncZlib('deflate', { level: 1 });
        const run = new ZlibRun(z, [data], Number.MAX_SAFE_INTEGER, 64);
        let i = 0;
        while (!run.step(budgets[i++ % budgets.length]!));
        const stepped = run.result();
        z.close();
        // The pieces may be flushed differently: what matters is that both inflate to the data.
        const back = new SyncZlib('inflate', {});
        const r2 = new ZlibRun(back, [stepped, TAIL], Number.MAX_SAFE_INTEGER, 64);
        let j = 0;
        while (!r2.step(budgets[j++ % budgets.length]!));
        assert.ok(r2.result().equals(data));
        assert.ok(new SyncZlib('inflate', {}).process([once, TAIL], Number.MAX_SAFE_INTEGER, 64).equals(data));
        back.close();
      },
    ),
    { numRuns: 60 },
  );
});


test('sends waiting behind a large message are told when the connection goes away first', () => {
  class Told extends Sliced {
    queueWithNotice(onDrop: () => void): void {
      this.sendLater(() => {}, 0, onDrop);
    }
  }
  const c = new Told();
  c.sendBinary(Buffer.alloc(4 * MiB));
  let dropped = 0;
  c.queueWithNotice(() => dropped++);
  c.transportClosed();
  assert.equal(dropped, 1);
});
