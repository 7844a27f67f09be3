#!/usr/bin/env node
import { UsageError } from './args.js';
import { serveCommand } from './serve.js';
import { connectCommand } from './connect.js';
import { demoCommand } from './demo.js';

const MAIN_HELP = `tether — a fast, strict WebSocket toolkit

Usage:
  tether serve [--port N] [--host H] (--echo | --realtime [--conformance]) [--deflate]
                                                 run a WebSocket server or a realtime hub
  tether connect <url> [--header K:V] [--protocol P] [--deflate]
                                                 an interactive client
  tether demo [--port N] [--host H]               serve Tether Live, the demo application
  tether <command> --help                        help for one command
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(MAIN_HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === 'serve') return serveCommand(rest);
  if (command === 'connect') return connectCommand(rest);
  if (command === 'demo') return demoCommand(rest);
  throw new UsageError(`unknown command "${command}" (try: tether --help)`);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`tether: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`tether: ${(err as Error)?.message ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
