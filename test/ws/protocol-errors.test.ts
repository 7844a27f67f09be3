// Side by side: a peer that breaks the protocol gets the same error (class, code, message),
// the same close code on the wire, and the same events, from ws 8 and from tether-ws/ws.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { frame, RawPeer } from '../helpers.js';
import { IMPLS, closed, listen, record, shut, until, type Socket } from './impls.js';

const close = (code: number, reason: Buffer | string = ''): Buffer => Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);

const CASES: Array<{ name: string; bytes: () => Buffer; error: string; wire: number; options?: Record<string, unknown> }> = [
  { name: 'unmasked frame', bytes: () => frame(1, 'x', { mask: false }), error: 'RangeError:WS_ERR_EXPECTED_MASK:Invalid WebSocket frame: MASK must be set', wire: 1002 },
  { name: 'RSV2 set', bytes: () => frame(1, 'x', { rsv: 2 }), error: 'RangeError:WS_ERR_UNEXPECTED_RSV_2_3:Invalid WebSocket frame: RSV2 and RSV3 must be clear', wire: 1002 },
  { name: 'RSV1 set without permessage-deflate', bytes: () => frame(1, 'x', { rsv: 4 }), error: 'RangeError:WS_ERR_UNEXPECTED_RSV_1:Invalid WebSocket frame: RSV1 must be clear', wire: 1002 },
  { name: 'ping with a 126-byte payload', bytes: () => frame(9, Buffer.alloc(126)), error: 'RangeError:WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH:Invalid WebSocket frame: invalid payload length 126', wire: 1002 },
  {
    name: 'binary message inside a fragmented one',
    bytes: () => Buffer.concat([frame(1, 'a', { fin: false }), frame(2, 'b')]),
    error: 'RangeError:WS_ERR_INVALID_OPCODE:Invalid WebSocket frame: invalid opcode 2',
    wire: 1002,
  },
  { name: 'reserved opcode 3', bytes: () => frame(3, 'x'), error: 'RangeError:WS_ERR_INVALID_OPCODE:Invalid WebSocket frame: invalid opcode 3', wire: 1002 },
  { name: 'reserved control opcode 11', bytes: () => frame(11, 'x'), error: 'RangeError:WS_ERR_INVALID_OPCODE:Invalid WebSocket frame: invalid opcode 11', wire: 1002 },
  { name: 'fragmented ping', bytes: () => frame(9, 'x', { fin: false }), error: 'RangeError:WS_ERR_EXPECTED_FIN:Invalid WebSocket frame: FIN must be set', wire: 1002 },
  { name: 'continuation without a message', bytes: () => frame(0, 'x'), error: 'RangeError:WS_ERR_INVALID_OPCODE:Invalid WebSocket frame: invalid opcode 0', wire: 1002 },
  { name: 'close frame with a 1-byte payload', bytes: () => frame(8, Buffer.from([3])), error: 'RangeError:WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH:Invalid WebSocket frame: invalid payload length 1', wire: 1002 },
  { name: 'invalid close code 1004', bytes: () => frame(8, close(1004)), error: 'RangeError:WS_ERR_INVALID_CLOSE_CODE:Invalid WebSocket frame: invalid status code 1004', wire: 1002 },
  { name: 'invalid close code 999', bytes: () => frame(8, close(999)), error: 'RangeError:WS_ERR_INVALID_CLOSE_CODE:Invalid WebSocket frame: invalid status code 999', wire: 1002 },
  { name: 'text that is not UTF-8', bytes: () => frame(1, Buffer.from([0xc3, 0x28])), error: 'Error:WS_ERR_INVALID_UTF8:Invalid WebSocket frame: invalid UTF-8 sequence', wire: 1007 },
  { name: 'close reason that is not UTF-8', bytes: () => frame(8, close(1000, Buffer.from([0xff]))), error: 'Error:WS_ERR_INVALID_UTF8:Invalid WebSocket frame: invalid UTF-8 sequence', wire: 1007 },
  { name: 'message over maxPayload', bytes: () => frame(2, Buffer.alloc(101)), error: 'RangeError:WS_ERR_UNSUPPORTED_MESSAGE_LENGTH:Max payload size exceeded', wire: 1009, options: { maxPayload: 100 } },
  {
    name: 'fragmented message over maxPayload',
    bytes: () => Buffer.concat([frame(2, Buffer.alloc(60), { fin: false }), frame(0, Buffer.alloc(60))]),
    error: 'RangeError:WS_ERR_UNSUPPORTED_MESSAGE_LENGTH:Max payload size exceeded',
    wire: 1009,
    options: { maxPayload: 100 },
  },
];

for (const impl of IMPLS) {
  describe(impl.name, () => {
    for (const c of CASES) {
      test(`${c.name}: error, then close 1006; the peer gets close code ${c.wire}`, async () => {
        const { wss, port } = await listen(impl, c.options);
        let log: unknown[][] = [];
        let server: Socket | undefined;
        wss.on('connection', (s) => {
          server = s;
          log = record(s, ['message', 'error', 'close']);
        });
        const peer = await RawPeer.connect(port);
        await until(() => server !== undefined);
        await peer.send(c.bytes());
        await closed(server!);
        assert.deepEqual(log, [['error', c.error], ['close', 1006, 'buf:']]);
        await peer.waitFrames(1);
        assert.equal(peer.closeFrame()?.code, c.wire);
        peer.destroy();
        await shut(wss);
      });
    }

    test('messages before the violation are delivered; nothing after it', async () => {
      const { wss, port } = await listen(impl);
      let log: unknown[][] = [];
      let server: Socket | undefined;
      wss.on('connection', (s) => {
        server = s;
        log = record(s, ['message', 'error', 'close']);
      });
      const peer = await RawPeer.connect(port);
      await until(() => server !== undefined);
      await peer.send(Buffer.concat([frame(1, 'before'), frame(1, 'x', { mask: false }), frame(1, 'after')]));
      await closed(server!);
      assert.deepEqual(log.map((e) => e[0]), ['message', 'error', 'close']);
      assert.equal(log[0]![1], 'buf:before');
      peer.destroy();
      await shut(wss);
    });
  });
}
