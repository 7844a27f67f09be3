#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { formatFlags, UsageError } from './args.js';
import { CONNECT_FLAGS, connectCommand } from './connect.js';
import { DEMO_FLAGS, demoCommand } from './demo.js';
import { errorLine } from './errors.js';
import { SERVE_FLAGS, serveCommand } from './serve.js';

/** The package's version (this file is dist/src/cli/main.js, three levels below package.json). */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function mainHelp(): string {
  return `tether ${version()} — a fast, strict WebSocket toolkit (npm tether-ws)

Usage:
  tether serve (--echo | --realtime) [flags]   a WebSocket echo server, or a realtime hub
  tether connect <url> [flags]                 an interactive client
  tether demo [flags]                          serve Tether Live, the demo application
  tether <command> --help                      help for one command
  tether --version                             the version
  tether --help                                this help

Flags of tether serve:
${formatFlags(SERVE_FLAGS)}

Flags of tether connect:
${formatFlags(CONNECT_FLAGS)}

Flags of tether demo:
${formatFlags(DEMO_FLAGS)}

Errors are one line on stderr starting with "tether: "; a wrong command line exits with
status 2, other failures with 1.
`;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(mainHelp());
    return command === undefined ? 2 : 0;
  }
  if (command === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (command === 'serve') return serveCommand(rest);
  if (command === 'connect') return connectCommand(rest);
  if (command === 'demo') return demoCommand(rest);
  if (command.startsWith('-')) throw new UsageError(`unknown flag ${command} (see tether --help)`);
  throw new UsageError(`unknown command "${command}" (see tether --help)`);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(errorLine(err));
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
