import { DEFAULT_MAX_PAYLOAD } from '../protocol/index.js';
import { SendStatus, WebSocketServer } from '../server/index.js';
import { formatFlags, HELP_FLAG, integerFlag, parseFlags, UsageError, type FlagTable } from './args.js';
import { errorLine } from './errors.js';
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { serveRealtime, type MessageLimits } from './serve-realtime.js';
import { runPrimary, runWorker } from './serve-workers.js';

export const SERVE_FLAGS: FlagTable = {
  port: { type: 'string', value: 'N', help: 'port to listen on (default 8080; 0 picks a free one)' },
  host: { type: 'string', value: 'H', help: 'address to bind (default 127.0.0.1)' },
  echo: { type: 'boolean', help: 'send every message back with the same type' },
  realtime: {
    type: 'boolean',
    help: 'a realtime hub (tether.v1): anonymous sessions may subscribe and\npublish to any topic (with presence), within the default rate limit\n(1000 messages per second per session); the browser client is served\nat /tether-realtime.js; drains with 1012 on Ctrl-C',
  },
  conformance: {
    type: 'boolean',
    help: "with --realtime: the rules the protocol test vectors expect\n(docs/protocol.md, section 10) instead of the open hub's",
  },
  workers: {
    type: 'string',
    value: 'N',
    help: 'with --realtime: N worker processes on the same port (node:cluster),\nsharing topics, history and presence through the primary; a worker\nthat dies is started again (default: one per core, 1 with --conformance;\n1: one process, no workers; 0: one per core)',
  },
  deflate: { type: 'boolean', help: 'accept permessage-deflate (RFC 7692) compression' },
  'max-payload': { type: 'string', value: 'N', help: 'largest message accepted, in bytes (default 64 MiB, 16 MiB on compressed\nconnections; 1 MiB with --realtime)' },
  'max-fragments': { type: 'string', value: 'N', help: 'most frames one message may arrive in; more closes with 1009\n(default 16384)' },
  help: HELP_FLAG,
};

export const SERVE_HELP = `Usage: tether serve (--echo | --realtime [--conformance] [--workers N]) [--port N] [--host H] [--deflate] [--max-payload N] [--max-fragments N]

Runs a WebSocket server and prints the URL it listens on.

${formatFlags(SERVE_FLAGS)}
`;

export async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('serve', args, SERVE_FLAGS);
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (see tether serve --help)`);
  if (!values.echo && !values.realtime) throw new UsageError('serve needs a behaviour: --echo or --realtime');
  if (values.echo && values.realtime) throw new UsageError('choose one of --echo and --realtime');
  if (values.conformance && !values.realtime) throw new UsageError('--conformance goes with --realtime');
  const port = values.port === undefined ? 8080 : integerFlag('--port', values.port as string, 0, 65535);
  const host = (values.host as string | undefined) ?? '127.0.0.1';
  const maxPayloadFlag = values['max-payload'] as string | undefined;
  const maxPayload = maxPayloadFlag === undefined ? DEFAULT_MAX_PAYLOAD : integerFlag('--max-payload', maxPayloadFlag, 1);
  const maxFragmentsFlag = values['max-fragments'] as string | undefined;
  // Only the limits given: without a flag the server's (or the realtime layer's) defaults apply.
  const limits: MessageLimits = {
    ...(maxPayloadFlag === undefined ? {} : { maxPayload }),
    ...(maxFragmentsFlag === undefined ? {} : { maxFragments: integerFlag('--max-fragments', maxFragmentsFlag, 1) }),
  };
  const workersFlag = values.workers as string | undefined;
  if (workersFlag !== undefined && !values.realtime) throw new UsageError('--workers goes with --realtime');
  // One per core by default; the conformance hub stays one process (a fixed reference for client authors).
  const workersCount = workersFlag === undefined ? (values.conformance ? 1 : 0) : integerFlag('--workers', workersFlag, 0);
  const workers = workersCount === 0 ? availableParallelism() : workersCount;
  if (values.realtime && cluster.isWorker && process.env.TETHER_WORKER_SLOT !== undefined) {
    const hub = await runWorker(port, host, limits, values.deflate === true, values.conformance === true);
    const stopWorker = () => void hub.close().then(() => process.exit(0));
    process.once('SIGINT', stopWorker);
    process.once('SIGTERM', stopWorker);
    return 0;
  }
  if (values.realtime && workers > 1) {
    const primary = await runPrimary(workers, () => process.exit(0));
    process.stdout.write(`tether: realtime hub listening on ${primary.url} with ${workers} workers (client at ${primary.url.replace('ws://', 'http://')}tether-realtime.js)\n`);
    const stopAll = () => {
      process.stdout.write('tether: draining\n');
      void primary.stop();
    };
    process.once('SIGINT', stopAll);
    process.once('SIGTERM', stopAll);
    return 0;
  }
  if (values.realtime) {
    const hub = await serveRealtime(port, host, limits, values.deflate === true, values.conformance === true);
    process.stdout.write(`tether: realtime hub listening on ${hub.url} (client at ${hub.url.replace('ws://', 'http://')}tether-realtime.js)\n`);
    const stopHub = () => {
      process.stdout.write('tether: draining\n');
      hub.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stopHub);
    process.once('SIGTERM', stopHub);
    return 0;
  }
  const server = new WebSocketServer({
    // Without --max-payload the server's defaults apply (smaller with --deflate).
    ...limits,
    perMessageDeflate: values.deflate === true,
    // An echo never holds more than what the peer sent: room for two whole messages, and
    // reading pauses while the peer is slow to read its echoes.
    maxBackpressure: 2 * maxPayload + 1024 * 1024,
    message(ws, data, isBinary) {
      if (ws.send(data, { binary: isBinary }) === SendStatus.Backpressure) ws.pause();
    },
    drain(ws) {
      ws.resume();
    },
    error(err) {
      process.stderr.write(errorLine(err));
    },
  });
  const addr = await server.listen(port, host);
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  process.stdout.write(`tether: echo server listening on ws://${shown}:${addr.port}/\n`);
  const stop = () => {
    process.stdout.write('tether: shutting down\n');
    server.close({ timeout: 2000 }).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return 0;
}
