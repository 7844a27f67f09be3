/**
 * Where the realtime client connects: one URL, several to fail over between (tried in
 * turn, moving on after each lost or failed connection), or a function that returns the
 * next one (service discovery). URLs are checked as the browser's WebSocket checks them: a
 * malformed one, or a scheme other than ws, wss, http or https, is a SyntaxError (with a
 * WebSocket class of the application's, any scheme it may know, ws+unix: for one, passes).
 */
export type ServerUrls = string | readonly string[] | (() => string);

/** The document's base URL where there is one (browsers); none on plain Node. */
function baseUrl(): string | undefined {
  const href = (globalThis as { location?: { href?: unknown } }).location?.href;
  return typeof href === 'string' ? href : undefined;
}

/**
 * The URL, resolved and with http(s) turned into ws(s); a SyntaxError DOMException when it
 * cannot be a WebSocket URL. `anyScheme`: only malformed URLs are refused.
 */
export function checkServerUrl(input: unknown, anyScheme = false): string {
  if (typeof input !== 'string') throw new TypeError(`a server URL must be a string, got ${input === null ? 'null' : typeof input}`);
  let url: URL;
  try {
    url = new URL(input, baseUrl());
  } catch {
    throw new DOMException(`invalid WebSocket URL "${input}"${baseUrl() === undefined ? ' (a relative URL needs a page to resolve against: give ws:// or wss://)' : ''}`, 'SyntaxError');
  }
  if (anyScheme) return input;
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new DOMException(`the URL scheme must be ws or wss, got ${url.protocol} in "${input}"`, 'SyntaxError');
  if (url.hash !== '' || input.includes('#')) throw new DOMException(`a WebSocket URL has no fragment: "${input}"`, 'SyntaxError');
  return url.href;
}

/** The rotation over the client's URLs. */
export class UrlRotation {
  private readonly list: readonly string[] | null;
  private readonly next: (() => string) | null;
  private index = 0;
  /** The URL of the current (or last) connection attempt. */
  current: string;

  constructor(
    urls: ServerUrls,
    private readonly anyScheme: boolean,
  ) {
    if (typeof urls === 'function') {
      this.list = null;
      this.next = urls;
      this.current = '';
    } else {
      const list = typeof urls === 'string' ? [urls] : Array.isArray(urls) ? urls : null;
      if (list === null || list.length === 0) throw new TypeError('url must be a string, a non-empty array of strings, or a function returning one');
      this.list = list.map((u) => checkServerUrl(u, anyScheme));
      this.next = null;
      this.current = this.list[0]!;
    }
  }

  /** How many URLs take turns (1 for a function: each call may give another). */
  get count(): number {
    return this.list?.length ?? 1;
  }

  /** The URL for the next attempt: the same one until `advance()`, or the function's answer (checked: it may throw). */
  take(): string {
    if (this.next !== null) this.current = checkServerUrl(this.next(), this.anyScheme);
    return this.current;
  }

  /** A connection to the current URL was lost or failed: the next attempt goes to the next URL. */
  advance(): void {
    if (this.list === null) return;
    this.index = (this.index + 1) % this.list.length;
    this.current = this.list[this.index]!;
  }
}
