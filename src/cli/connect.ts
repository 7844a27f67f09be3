import { createInterface } from 'node:readline';
import { WebSocket } from '../client/index.js';
import { formatFlags, HELP_FLAG, parseFlags, UsageError, type FlagTable } from './args.js';
import { errorLine } from './errors.js';
import { printable } from './printable.js';

export const CONNECT_FLAGS: FlagTable = {
  header: { type: 'string', multiple: true, value: 'K:V', help: 'add a request header (repeatable)' },
  protocol: { type: 'string', multiple: true, value: 'P', help: 'offer a subprotocol (repeatable)' },
  origin: { type: 'string', value: 'O', help: 'send an Origin header' },
  deflate: { type: 'boolean', help: 'offer permessage-deflate (RFC 7692) compression' },
  help: HELP_FLAG,
};

export const CONNECT_HELP = `Usage: tether connect <url> [--header K:V]... [--protocol P]... [--origin O] [--deflate]

An interactive client: each line typed is sent as a text message, each message
received is printed (text with its control characters escaped, binary as hex).
Ctrl-C (or end of input) closes the connection cleanly.

${formatFlags(CONNECT_FLAGS)}
`;

export async function connectCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('connect', args, CONNECT_FLAGS);
  if (values.help) {
    process.stdout.write(CONNECT_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('connect needs exactly one URL (see tether connect --help)');
  const headers: Record<string, string> = {};
  for (const h of (values.header as string[] | undefined) ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new UsageError(`--header must look like Name:value, got "${h}"`);
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  let ws: WebSocket;
  try {
    ws = new WebSocket(positionals[0]!, (values.protocol as string[] | undefined) ?? [], {
      headers,
      origin: values.origin as string | undefined,
      perMessageDeflate: values.deflate === true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  ws.binaryType = 'nodebuffer';
  return new Promise<number>((resolve) => {
    const rl = createInterface({ input: process.stdin, terminal: false });
    let opened = false;
    // Lines typed (or piped) before the handshake completes wait for it.
    const early: string[] = [];
    let inputEnded = false;
    rl.on('line', (line) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(line);
      else if (ws.readyState === WebSocket.CONNECTING) early.push(line);
    });
    rl.on('close', () => {
      inputEnded = true;
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    });
    ws.onopen = () => {
      opened = true;
      // The protocol and extensions are the server's words: escaped like its messages.
      process.stderr.write(`connected to ${ws.url}${ws.protocol ? ` (protocol ${printable(ws.protocol)})` : ''}${ws.extensions ? ` (extensions ${printable(ws.extensions)})` : ''}\n`);
      for (const line of early.splice(0)) ws.send(line);
      if (inputEnded) ws.close(1000);
    };
    ws.onmessage = (e) => {
      const d = e.data as string | Buffer;
      process.stdout.write(typeof d === 'string' ? `< ${printable(d)}\n` : `< <binary ${d.length} bytes> ${d.toString('hex').slice(0, 64)}\n`);
    };
    ws.onerror = (e) => process.stderr.write(errorLine(printable(e.message || 'connection failed')));
    ws.onclose = (e) => {
      process.stderr.write(`closed: ${e.code}${e.reason ? ` ${printable(e.reason)}` : ''}\n`);
      rl.close();
      resolve(opened && e.wasClean ? 0 : 1);
    };
    process.once('SIGINT', () => {
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      else process.exit(130);
    });
  });
}
