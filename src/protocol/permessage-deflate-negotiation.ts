// permessage-deflate parameter negotiation (RFC 7692 §7.1). Pure functions: no zlib here,
// only the decision of which parameters both sides use.
import { formatExtension, type ExtensionOffer } from './extensions.js';

export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** The parameters both endpoints use once permessage-deflate is agreed. */
export interface DeflateAgreement {
  /** The server resets its compression context after every message. */
  serverNoContextTakeover: boolean;
  /** The client resets its compression context after every message. */
  clientNoContextTakeover: boolean;
  /** LZ77 window (base-2 log, 8..15) the server compresses with; 15 when not negotiated. */
  serverMaxWindowBits: number;
  /** LZ77 window (base-2 log, 8..15) the client compresses with; 15 when not negotiated. */
  clientMaxWindowBits: number;
}

/** What a server is willing to use / asks for. */
export interface DeflateServerOptions {
  /** Always reset the server's context (tell the client so). */
  serverNoContextTakeover?: boolean;
  /** Ask the client to reset its context after every message. */
  clientNoContextTakeover?: boolean;
  /** Largest window the server compresses with (8..15). */
  serverMaxWindowBits?: number;
  /** Largest window the client may compress with (8..15). Below 15, offers that do not allow it are refused. */
  clientMaxWindowBits?: number;
}

/** What a client offers / requires. */
export interface DeflateClientOptions {
  /** Require the server to reset its context after every message. */
  serverNoContextTakeover?: boolean;
  /** Promise to reset the client's context after every message. */
  clientNoContextTakeover?: boolean;
  /** Largest window the server may compress with (8..15). */
  serverMaxWindowBits?: number;
  /** Largest window the client compresses with (8..15); without it the client lets the server choose. */
  clientMaxWindowBits?: number;
}

const NEGOTIATED_KEYS = ['serverNoContextTakeover', 'clientNoContextTakeover', 'serverMaxWindowBits', 'clientMaxWindowBits'];

/**
 * Checks a user-supplied permessage-deflate options object; throws a TypeError naming the
 * bad field (e.g. `perMessageDeflate.serverMaxWindowBits`). Besides the negotiated fields,
 * the compression tuning keys `threshold`, `level`, `memLevel` and `maxContexts` are
 * allowed (and checked); anything else is rejected. Undefined values count as "not set".
 */
export function validateDeflateOptions(options: unknown, optionName: string): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${optionName} must be an object`);
  }
  const record = options as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (value === undefined) continue;
    const field = `${optionName}.${key}`;
    switch (key) {
      case 'serverNoContextTakeover':
      case 'clientNoContextTakeover':
        if (typeof value !== 'boolean') throw new TypeError(`${field} must be a boolean`);
        break;
      case 'serverMaxWindowBits':
      case 'clientMaxWindowBits':
        checkInteger(value, field, 8, 15);
        break;
      case 'threshold':
        checkInteger(value, field, 0, Number.MAX_SAFE_INTEGER);
        break;
      case 'level':
        checkInteger(value, field, 0, 9);
        break;
      case 'memLevel':
        checkInteger(value, field, 1, 9);
        break;
      case 'maxContexts':
        checkInteger(value, field, 0, Number.MAX_SAFE_INTEGER);
        break;
      default:
        throw new TypeError(
          `${field} is not a known option (expected ${[...NEGOTIATED_KEYS, 'threshold', 'level', 'memLevel', 'maxContexts'].join(', ')})`,
        );
    }
  }
}

function checkInteger(value: unknown, field: string, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new TypeError(`${field} must be an integer ${range}, got ${String(value)}`);
  }
}

/**
 * Parses a window-bits parameter value. RFC 7692 §7.1.2 allows "a decimal integer value
 * without leading zeros between 8 to 15 inclusive", so "08", "+9", "9.0" and "16" are
 * all invalid. Returns null when invalid.
 */
function parseWindowBits(value: string): number | null {
  if (!/^[1-9][0-9]?$/.test(value)) return null;
  const n = Number(value);
  return n >= 8 && n <= 15 ? n : null;
}

const KNOWN_PARAMS = new Set([
  'server_no_context_takeover',
  'client_no_context_takeover',
  'server_max_window_bits',
  'client_max_window_bits',
]);

// --- Server side ---------------------------------------------------------------------

/**
 * Picks the first acceptable permessage-deflate offer (offers of other extensions are
 * ignored) and returns the agreement plus the response element, or null if none is
 * acceptable. `options` is assumed already checked by validateDeflateOptions.
 */
export function acceptDeflateOffers(
  offers: readonly ExtensionOffer[],
  options: DeflateServerOptions = {},
): { agreement: DeflateAgreement; response: string } | null {
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    const accepted = acceptOne(offer, options);
    if (accepted !== null) return accepted;
  }
  return null;
}

function acceptOne(
  offer: ExtensionOffer,
  options: DeflateServerOptions,
): { agreement: DeflateAgreement; response: string } | null {
  if (offer.hasDuplicate) return null;
  const p = offer.params;
  for (const key of p.keys()) if (!KNOWN_PARAMS.has(key)) return null;

  const serverNct = p.get('server_no_context_takeover');
  const clientNct = p.get('client_no_context_takeover');
  if (serverNct !== undefined && serverNct !== true) return null;
  if (clientNct !== undefined && clientNct !== true) return null;

  const smwbRaw = p.get('server_max_window_bits');
  let offeredServerBits: number | undefined;
  if (smwbRaw !== undefined) {
    if (smwbRaw === true) return null; // the parameter requires a value
    const n = parseWindowBits(smwbRaw);
    if (n === null) return null;
    offeredServerBits = n;
  }

  const cmwbRaw = p.get('client_max_window_bits');
  let offeredClientBits: number | undefined; // undefined: absent, or present without value
  if (cmwbRaw !== undefined && cmwbRaw !== true) {
    const n = parseWindowBits(cmwbRaw);
    if (n === null) return null;
    offeredClientBits = n;
  }

  const response = new Map<string, string | true>();

  const serverNoContextTakeover = serverNct === true || options.serverNoContextTakeover === true;
  if (serverNoContextTakeover) response.set('server_no_context_takeover', true);

  const clientNoContextTakeover = clientNct === true || options.clientNoContextTakeover === true;
  if (clientNoContextTakeover) response.set('client_no_context_takeover', true);

  const configuredServerBits = options.serverMaxWindowBits ?? 15;
  const serverMaxWindowBits = Math.min(offeredServerBits ?? 15, configuredServerBits);
  // A window of 8 is negotiated like any other: the compressor uses zlib's 9-bit window for
  // it, whose back-references never reach more than 2^9 - 262 = 250 bytes (see deflate-codec.ts).
  // Only answer server_max_window_bits when the client offered it (§7.1.2.1); when it did
  // not, we simply compress with our configured window.
  if (offeredServerBits !== undefined) response.set('server_max_window_bits', String(serverMaxWindowBits));

  let clientMaxWindowBits: number;
  if (cmwbRaw !== undefined && options.clientMaxWindowBits !== undefined) {
    clientMaxWindowBits = Math.min(offeredClientBits ?? 15, options.clientMaxWindowBits);
    response.set('client_max_window_bits', String(clientMaxWindowBits));
  } else if (cmwbRaw === undefined && options.clientMaxWindowBits !== undefined && options.clientMaxWindowBits < 15) {
    // The client cannot be told to use a smaller window: this offer does not suit us.
    return null;
  } else {
    clientMaxWindowBits = offeredClientBits ?? 15;
  }

  return {
    agreement: { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits },
    response: formatExtension(PERMESSAGE_DEFLATE, response),
  };
}

// --- Client side ---------------------------------------------------------------------

/**
 * The client's offer element. By default `permessage-deflate; client_max_window_bits`
 * (as browsers send: we can compress with whatever window the server asks for). The
 * client always offers client_max_window_bits, with its limit as value when configured.
 */
export function buildDeflateOffer(options: DeflateClientOptions = {}): string {
  const params = new Map<string, string | true>();
  if (options.serverNoContextTakeover === true) params.set('server_no_context_takeover', true);
  if (options.clientNoContextTakeover === true) params.set('client_no_context_takeover', true);
  if (options.serverMaxWindowBits !== undefined) params.set('server_max_window_bits', String(options.serverMaxWindowBits));
  const own = options.clientMaxWindowBits;
  params.set('client_max_window_bits', own !== undefined ? String(own) : true);
  return formatExtension(PERMESSAGE_DEFLATE, params);
}

/**
 * Checks the server's permessage-deflate response element against the offer that
 * buildDeflateOffer(options) produced; throws an Error with a clear message if the
 * response is unacceptable (the caller then fails the connection).
 */
export function acceptDeflateResponse(response: ExtensionOffer, options: DeflateClientOptions = {}): DeflateAgreement {
  const fail = (why: string): never => {
    throw new Error(`invalid permessage-deflate response: ${why}`);
  };
  if (response.name !== PERMESSAGE_DEFLATE) fail(`unexpected extension "${response.name}"`);
  if (response.hasDuplicate) fail('duplicate parameter');
  const p = response.params;
  for (const key of p.keys()) if (!KNOWN_PARAMS.has(key)) fail(`unknown parameter "${key}"`);

  const serverNct = p.get('server_no_context_takeover');
  const clientNct = p.get('client_no_context_takeover');
  if (serverNct !== undefined && serverNct !== true) fail('server_no_context_takeover must not have a value');
  if (clientNct !== undefined && clientNct !== true) fail('client_no_context_takeover must not have a value');
  if (options.serverNoContextTakeover === true && serverNct === undefined) {
    fail('server_no_context_takeover was required but is missing');
  }

  const offeredServerBits = options.serverMaxWindowBits;
  const smwbRaw = p.get('server_max_window_bits');
  let serverMaxWindowBits = 15;
  if (smwbRaw !== undefined) {
    if (smwbRaw === true) fail('server_max_window_bits requires a value');
    const n = parseWindowBits(smwbRaw as string);
    if (n === null) fail(`server_max_window_bits=${String(smwbRaw)} is not an integer from 8 to 15`);
    if (offeredServerBits !== undefined && (n as number) > offeredServerBits) {
      fail(`server_max_window_bits=${String(n)} is larger than the offered ${offeredServerBits}`);
    }
    serverMaxWindowBits = n as number;
  } else if (offeredServerBits !== undefined) {
    // §7.1.2.1: a server accepts the limit by answering the parameter. Without it we would
    // not know the server honours our limit.
    fail(`server_max_window_bits=${offeredServerBits} was required but is missing`);
  }

  const cmwbRaw = p.get('client_max_window_bits');
  // buildDeflateOffer always offers client_max_window_bits (bare, or with our limit), so
  // the server may always answer it; "answered without an offer" cannot happen here.
  const offeredClientBits = options.clientMaxWindowBits;
  let clientMaxWindowBits = offeredClientBits ?? 15;
  if (cmwbRaw !== undefined) {
    if (cmwbRaw === true) fail('client_max_window_bits requires a value');
    const n = parseWindowBits(cmwbRaw as string);
    if (n === null) fail(`client_max_window_bits=${String(cmwbRaw)} is not an integer from 8 to 15`);
    if (offeredClientBits !== undefined && (n as number) > offeredClientBits) {
      fail(`client_max_window_bits=${String(n)} is larger than the offered ${offeredClientBits}`);
    }
    clientMaxWindowBits = n as number;
  }

  return {
    serverNoContextTakeover: serverNct === true,
    clientNoContextTakeover: clientNct === true || options.clientNoContextTakeover === true,
    serverMaxWindowBits,
    clientMaxWindowBits,
  };
}
