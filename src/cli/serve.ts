import { DEFAULT_MAX_PAYLOAD } from '../protocol/index.js';
import { SendStatus, WebSocketServer } from '../server/index.js';
import { parseFlags, UsageError } from './args.js';
import { serveRealtime } from './serve-realtime.js';

export const SERVE_HELP = `Usage: tether serve [--port N] [--host H] (--echo | --realtime [--conformance]) [--deflate]

Runs a WebSocket server and prints the URL it listens on.

  --port N       port to listen on (default 8080; 0 picks a free one)
  --host H       address to bind (default 127.0.0.1)
  --echo         send every message back with the same type
  --realtime     a realtime hub (tether.v1): anonymous sessions may subscribe and
                 publish to any topic (with presence), within the default rate limit
                 (1000 messages per second per session); the browser client is served
                 at /tether-realtime.js; drains with 1012 on Ctrl-C
  --conformance  with --realtime: the rules the protocol test vectors expect
                 (docs/protocol.md, section 10) instead of the open hub's
  --deflate      accept permessage-deflate (RFC 7692) compression
  --max-payload N  largest message accepted, in bytes (default 64 MiB, 16 MiB on compressed
                   connections; 1 MiB with --realtime)
  -h, --help     this help
`;

function parsePort(v: string | undefined): number {
  if (v === undefined) return 8080;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new UsageError(`--port must be an integer between 0 and 65535, got "${v}"`);
  return n;
}

export async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    echo: { type: 'boolean' },
    realtime: { type: 'boolean' },
    conformance: { type: 'boolean' },
    deflate: { type: 'boolean' },
    'max-payload': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.echo && !values.realtime) throw new UsageError('serve needs a behaviour: --echo or --realtime');
  if (values.echo && values.realtime) throw new UsageError('choose one of --echo and --realtime');
  if (values.conformance && !values.realtime) throw new UsageError('--conformance goes with --realtime');
  const port = parsePort(values.port as string | undefined);
  const host = (values.host as string | undefined) ?? '127.0.0.1';
  const maxPayloadFlag = values['max-payload'] as string | undefined;
  if (maxPayloadFlag !== undefined && !/^\d+$/.test(maxPayloadFlag)) throw new UsageError('--max-payload must be a positive integer');
  const maxPayload = maxPayloadFlag === undefined ? DEFAULT_MAX_PAYLOAD : Number(maxPayloadFlag);
  if (values.realtime) {
    const hub = await serveRealtime(port, host, maxPayloadFlag === undefined ? undefined : maxPayload, values.deflate === true, values.conformance === true);
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
    ...(maxPayloadFlag === undefined ? {} : { maxPayload }),
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
