// A legitimate client for scripts/attack.mjs and scripts/soak.mjs, in a worker thread (an
// event loop of its own, so that the attacker's work does not delay its measurements): one
// 16-byte echo in flight at a time over a raw socket, every `interval` ms. The parent posts
// 'mark' to start a window and 'report' to get { count, p50, p99, max, lost } for it
// (latencies in ms; `lost` is true if the connection failed).
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { isMainThread, parentPort, workerData, Worker } from 'node:worker_threads';

/** Starts a probe against 127.0.0.1:port; resolves once its handshake is done. */
export async function startProbe(port, interval = 5) {
  const worker = new Worker(new URL(import.meta.url), { workerData: { port, interval } });
  const pending = [];
  worker.on('message', (m) => pending.shift()?.(m));
  const ask = (cmd) => new Promise((resolve) => (pending.push(resolve), worker.postMessage(cmd)));
  const ready = await new Promise((resolve, reject) => {
    pending.push(resolve);
    worker.once('error', reject);
  });
  if (ready !== 'ready') throw new Error(`probe: ${ready}`);
  return {
    mark: () => ask('mark'),
    report: () => ask('report'),
    stop: () => worker.terminate(),
  };
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

if (!isMainThread) {
  const { port, interval } = workerData;
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let buf = Buffer.alloc(0);
  let open = false;
  let lost = false;
  let sentAt = 0;
  let inFlight = false;
  let latencies = [];
  const payload = Buffer.from('probe-0123456789');
  const key = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i & 3]));
  const frame = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), key, masked]);
  const send = () => {
    if (!open || inFlight || lost) return;
    inFlight = true;
    sentAt = performance.now();
    socket.write(frame);
  };
  socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    if (!open) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!buf.subarray(0, 12).toString().includes('101')) {
        parentPort.postMessage(`handshake refused: ${buf.subarray(0, end).toString()}`);
        return;
      }
      buf = buf.subarray(end + 4);
      open = true;
      parentPort.postMessage('ready');
    }
    // Echoes of 16 bytes: 2-byte header + payload.
    while (buf.length >= 2 + payload.length) {
      buf = buf.subarray(2 + payload.length);
      latencies.push(performance.now() - sentAt);
      inFlight = false;
    }
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    lost = true;
  });
  setInterval(send, interval);
  parentPort.on('message', (cmd) => {
    if (cmd === 'mark') {
      latencies = [];
      parentPort.postMessage('marked');
    } else if (cmd === 'report') {
      // An echo still missing counts with the time it has waited so far.
      const all = inFlight ? [...latencies, performance.now() - sentAt] : latencies;
      const sorted = [...all].sort((a, b) => a - b);
      parentPort.postMessage({ count: latencies.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN, lost });
    }
  });
}
