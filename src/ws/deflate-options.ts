import {
  acceptDeflateOffers,
  acceptDeflateResponse,
  buildDeflateOffer,
  parseExtensions,
  PERMESSAGE_DEFLATE,
  PerMessageDeflate,
  resolveDeflateOptions,
  type ResolvedDeflateOptions,
} from '../protocol/index.js';

/** ws's perMessageDeflate option. zlib options other than level and memLevel, and concurrencyLimit, are accepted and ignored. */
export interface WsDeflateOptions {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number | boolean;
  clientMaxWindowBits?: number | boolean;
  /** Messages smaller than this (bytes; string length for text) are not compressed. Default 1024, as in ws. */
  threshold?: number;
  zlibDeflateOptions?: { level?: number; memLevel?: number; [k: string]: unknown };
  zlibInflateOptions?: Record<string, unknown>;
  concurrencyLimit?: number;
}

/** ws's defaults on Tether's engine: context takeover allowed both ways, threshold 1024. */
function resolve(value: boolean | WsDeflateOptions, role: 'server' | 'client'): ResolvedDeflateOptions | null {
  if (value === false || value === undefined || value === null) return null;
  const o: WsDeflateOptions = value === true ? {} : value;
  const bits = (v: number | boolean | undefined): number | undefined => (typeof v === 'number' ? v : undefined);
  return resolveDeflateOptions(
    {
      serverNoContextTakeover: o.serverNoContextTakeover ?? false,
      clientNoContextTakeover: o.clientNoContextTakeover,
      serverMaxWindowBits: bits(o.serverMaxWindowBits),
      clientMaxWindowBits: bits(o.clientMaxWindowBits),
      threshold: o.threshold ?? 1024,
      level: o.zlibDeflateOptions?.level,
      memLevel: o.zlibDeflateOptions?.memLevel,
    },
    'perMessageDeflate',
    role,
  );
}

export interface ServerDeflate {
  /** The codec and response element for the client's offers; null when none is acceptable; throws on a malformed header. */
  negotiate(header: string): { codec: PerMessageDeflate; response: string } | null;
}

export function serverDeflate(value: boolean | WsDeflateOptions): ServerDeflate | null {
  const settings = resolve(value, 'server');
  if (settings === null) return null;
  return {
    negotiate(header) {
      const accepted = acceptDeflateOffers(parseExtensions(header), settings.negotiation);
      if (accepted === null) return null;
      return { codec: new PerMessageDeflate(accepted.agreement, 'server', settings.tuning), response: accepted.response };
    },
  };
}

export interface ClientDeflate {
  offer: string;
  /** The codec for the server's answer, or the error message ws gives for it. */
  accept(header: string): PerMessageDeflate | string;
}

export function clientDeflate(value: boolean | WsDeflateOptions, maxPayload: number): ClientDeflate | null {
  void maxPayload; // inflation is bounded by the connection's maxPayload
  const settings = resolve(value, 'client');
  if (settings === null) return null;
  return {
    offer: buildDeflateOffer(settings.negotiation),
    accept(header) {
      let elements;
      try {
        elements = parseExtensions(header);
      } catch {
        return 'Invalid Sec-WebSocket-Extensions header';
      }
      if (elements.length !== 1 || elements[0]!.name !== PERMESSAGE_DEFLATE) return 'Server indicated an extension that was not requested';
      try {
        return new PerMessageDeflate(acceptDeflateResponse(elements[0]!, settings.negotiation), 'client', settings.tuning);
      } catch {
        return 'Invalid Sec-WebSocket-Extensions header';
      }
    },
  };
}
