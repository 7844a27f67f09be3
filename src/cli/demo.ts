import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatFlags, HELP_FLAG, integerFlag, parseFlags, UsageError, type FlagTable } from './args.js';
import { errorLine } from './errors.js';

export const DEMO_FLAGS: FlagTable = {
  port: { type: 'string', value: 'N', help: 'port to listen on (default $PORT, else 8080; 0 picks a free one)' },
  host: { type: 'string', value: 'H', help: 'address to bind (default $HOST, else 127.0.0.1)' },
  help: HELP_FLAG,
};

export const DEMO_HELP = `Usage: tether demo [--port N] [--host H]

Serves Tether Live, the demo application: every classic WebSocket use case as a web
page (chat, live comments, stock ticker, monitoring, collaborative editing, a game,
task progress, a video call), in this one process. Prints the URL to open.
Ctrl-C drains: realtime clients get 1012 with a reconnect delay hint.

${formatFlags(DEMO_FLAGS)}

In a clone of the repository, \`npm start\` builds the demo and runs this command.
`;

/** The part of demo/app/demo-server.ts this command uses (the CLI does not import demo/ at compile time). */
interface DemoModule {
  startDemo(options: { port?: number; host?: string }): Promise<{ url: string; close(): Promise<void> }>;
}

/** Built by `npm start` (scripts/build-demo.mjs) or `npm run build`, next to dist/src. */
const DEMO_SERVER = new URL('../../demo/app/demo-server.js', import.meta.url);

function parsePort(v: string | undefined, from: string): number {
  if (v === undefined || v === '') return 8080;
  return integerFlag(from, v, 0, 65535);
}

export async function demoCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('demo', args, DEMO_FLAGS);
  if (values.help) {
    process.stdout.write(DEMO_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (see tether demo --help)`);
  const port = values.port !== undefined ? parsePort(values.port as string, '--port') : parsePort(process.env.PORT, 'the PORT environment variable');
  const host = (values.host as string | undefined) ?? (process.env.HOST || '127.0.0.1');
  if (!existsSync(fileURLToPath(DEMO_SERVER))) {
    throw new Error('the demo is not built: in a clone of the repository, run `npm start` (or `npm run build`)');
  }
  const { startDemo } = (await import(DEMO_SERVER.href)) as DemoModule;
  const demo = await startDemo({ port, host });
  process.stdout.write(`tether: Tether Live is running at ${demo.url}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(130); // A second Ctrl-C does not wait for the drain.
    stopping = true;
    process.stdout.write('tether: draining (Ctrl-C again to quit at once)\n');
    demo.close().then(() => process.exit(0), (err: unknown) => {
      process.stderr.write(errorLine(err));
      process.exit(1);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return 0;
}
