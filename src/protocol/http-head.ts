/**
 * A strict parser for the one HTTP/1.1 message head a WebSocket handshake exchanges
 * (the Upgrade request or the 101 response). Sans-I/O: it reads text, it does not read
 * sockets.
 */

export interface HttpHead {
  /** The three parts of the start line: method, target, version (request) or version, status, reason (response). */
  start: [string, string, string];
  /** Lower-case names; repeated headers joined with ", " as Node's http module does. */
  headers: Record<string, string>;
  /** Lower-case names that appeared more than once. */
  repeated: Set<string> | null;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** findHeadEnd's answer when the head has not ended yet. */
export const HEAD_INCOMPLETE = -1;
/**
 * findHeadEnd's answer when a line ends with a bare LF. RFC 9112 §2.2 lets a recipient
 * accept it; we refuse it (400) as node:http does, so that a standalone server and one
 * attached to an http.Server answer the same request the same way.
 */
export const BARE_LF = -2;

/**
 * Index just past the blank line (CRLF CRLF) that ends the head, HEAD_INCOMPLETE if it
 * has not arrived, or BARE_LF as soon as a line ends in LF without CR. `from` skips bytes
 * already scanned by an earlier call on the same, longer-grown buffer: each byte is looked
 * at once however the head was split into chunks.
 */
export function findHeadEnd(buf: Buffer, from = 0): number {
  for (let i = buf.indexOf(0x0a, from); i >= 0; i = buf.indexOf(0x0a, i + 1)) {
    if (i === 0 || buf[i - 1] !== 0x0d) return BARE_LF;
    if (i >= 3 && buf[i - 2] === 0x0a) return i + 1;
  }
  return HEAD_INCOMPLETE;
}

export class HttpHeadError extends Error {}

/** Parses a head (without the final blank line requirement: trailing CRLFs are ignored). */
export function parseHttpHead(text: string): HttpHead {
  const lines = text.split('\r\n');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const startLine = lines[0] ?? '';
  const first = startLine.indexOf(' ');
  if (first <= 0) throw new HttpHeadError('malformed start line');
  // A status line may omit the reason phrase and its space ("HTTP/1.1 101"), as some servers do.
  const found = startLine.indexOf(' ', first + 1);
  const second = found < 0 ? startLine.length : found;
  if (second === first + 1) throw new HttpHeadError('malformed start line');
  const start: [string, string, string] = [startLine.slice(0, first), startLine.slice(first + 1, second), startLine.slice(second + 1)];
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  let repeated: Set<string> | null = null;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line[0] === ' ' || line[0] === '\t') throw new HttpHeadError('folded header lines are not allowed');
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HttpHeadError('malformed header line');
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new HttpHeadError('malformed header name');
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (/[\0\r\n]/.test(value)) throw new HttpHeadError('malformed header value');
    const prev = headers[key];
    if (prev === undefined) {
      headers[key] = value;
    } else {
      headers[key] = `${prev}, ${value}`;
      (repeated ??= new Set()).add(key);
    }
  }
  return { start, headers, repeated };
}

/** Splits a comma-separated header value into trimmed, non-empty elements. */
export function splitList(value: string | undefined): string[] {
  if (value === undefined) return [];
  const out: string[] = [];
  for (const part of value.split(',')) {
    const t = part.trim();
    if (t !== '') out.push(t);
  }
  return out;
}

export function isToken(s: string): boolean {
  return TOKEN.test(s);
}

/** Whether a comma-separated header contains `token`, compared case-insensitively. */
export function hasToken(value: string | undefined, token: string): boolean {
  for (const t of splitList(value)) if (t.toLowerCase() === token) return true;
  return false;
}
