import { isToken } from './http-head.js';

/** One offer or response element of Sec-WebSocket-Extensions (RFC 6455 §9.1). */
export interface ExtensionOffer {
  name: string;
  /** Parameter values; `true` for a parameter given without a value. */
  params: Map<string, string | true>;
  /** A parameter appeared twice: the offer is invalid for any extension. */
  hasDuplicate: boolean;
}

export class ExtensionHeaderError extends Error {}

/** Parses a Sec-WebSocket-Extensions value. Throws ExtensionHeaderError on bad syntax. */
export function parseExtensions(value: string | undefined): ExtensionOffer[] {
  if (value === undefined || value.trim() === '') return [];
  const offers: ExtensionOffer[] = [];
  for (const element of splitOutsideQuotes(value, ',')) {
    // splitOutsideQuotes drops empty parts: an element starting with ';' has no name.
    if (element.trim().startsWith(';')) throw new ExtensionHeaderError(`missing extension name in "${element.trim()}"`);
    const parts = splitOutsideQuotes(element, ';').map((p) => p.trim());
    const name = parts[0] ?? '';
    if (!isToken(name)) throw new ExtensionHeaderError(`invalid extension name "${name}"`);
    const params = new Map<string, string | true>();
    let hasDuplicate = false;
    for (const raw of parts.slice(1)) {
      const eq = raw.indexOf('=');
      const key = (eq < 0 ? raw : raw.slice(0, eq)).trim().toLowerCase();
      if (!isToken(key)) throw new ExtensionHeaderError(`invalid parameter "${raw}" in ${name}`);
      let val: string | true = true;
      if (eq >= 0) {
        val = raw.slice(eq + 1).trim();
        if (val.startsWith('"')) {
          if (val.length < 2 || !val.endsWith('"')) throw new ExtensionHeaderError(`unterminated quoted value in ${name}`);
          val = val.slice(1, -1);
        }
        if (!isToken(val)) throw new ExtensionHeaderError(`invalid value for ${key} in ${name}`);
      }
      if (params.has(key)) hasDuplicate = true;
      params.set(key, val);
    }
    offers.push({ name: name.toLowerCase(), params, hasDuplicate });
  }
  return offers;
}

/** Formats one extension element, e.g. `permessage-deflate; server_no_context_takeover`. */
export function formatExtension(name: string, params: Map<string, string | true>): string {
  let out = name;
  for (const [k, v] of params) out += v === true ? `; ${k}` : `; ${k}=${v}`;
  return out;
}

function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out.filter((p) => p.trim() !== '');
}

/**
 * What a server-side extension implements: pick an acceptable offer among the client's
 * (all offers of this extension's name, in order) and answer with the response element.
 * permessage-deflate is the one Tether ships.
 */
export interface ServerExtensionNegotiator<Agreement> {
  readonly name: string;
  /** Returns the agreement for the first acceptable offer, or null to decline. */
  accept(offers: ExtensionOffer[]): { agreement: Agreement; response: string } | null;
}

/** The client side: what to offer, and how to check the server's answer. */
export interface ClientExtensionNegotiator<Agreement> {
  readonly name: string;
  offer(): string;
  /** Validates the server's response element; throws with a clear message if unacceptable. */
  accept(response: ExtensionOffer): Agreement;
}
