/**
 * An independent RFC 8441 client for the tests, written with node:http2 only: it opens
 * extended CONNECT streams by hand and speaks frames byte by byte through RawPeer.
 */
import { connect, createSecureServer, createServer, type ClientHttp2Session, type ClientHttp2Stream, type Http2SecureServer, type Http2Server, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { RawPeer, TLS_CERT, TLS_KEY } from '../helpers.js';

/** Connects and waits for the server's first SETTINGS. */
export async function h2Session(origin: string): Promise<{ session: ClientHttp2Session; connectProtocol: boolean }> {
  const session = connect(origin, { ca: TLS_CERT });
  session.on('error', () => {});
  const settings = await new Promise<{ enableConnectProtocol?: boolean }>((resolve, reject) => {
    session.once('remoteSettings', resolve);
    session.once('error', reject);
    session.once('close', () => reject(new Error('session closed before SETTINGS')));
  });
  return { session, connectProtocol: settings.enableConnectProtocol === true };
}

/** Sends an extended CONNECT and waits for the response headers. */
export function h2Connect(session: ClientHttp2Session, path = '/', headers: Record<string, string> = {}): Promise<{ stream: ClientHttp2Stream; response: IncomingHttpHeaders }> {
  const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': path, 'sec-websocket-version': '13', ...headers });
  stream.on('error', () => {});
  return new Promise((resolve, reject) => {
    stream.once('response', (response) => resolve({ stream, response }));
    stream.once('close', () => reject(new Error(`stream closed before a response (code ${stream.rstCode})`)));
  });
}

/** Opens a WebSocket on a new stream (expects :status 200) and gives a raw frame peer on it. */
export async function h2Peer(session: ClientHttp2Session, path = '/', headers: Record<string, string> = {}): Promise<RawPeer<ClientHttp2Stream>> {
  const { stream, response } = await h2Connect(session, path, headers);
  if (Number(response[':status']) !== 200) throw new Error(`extended CONNECT refused: ${response[':status']}`);
  // The server ending its side is the end of the WebSocket: end ours too, as TCP would.
  stream.on('end', () => stream.end());
  const head = { start: ['HTTP/2', '200', ''] as [string, string, string], headers: flatten(response) };
  return RawPeer.over(stream, head as never);
}

/** A refused CONNECT: status, headers and the text body. */
export async function h2Refusal(session: ClientHttp2Session, path = '/', headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const { stream, response } = await h2Connect(session, path, headers);
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((r) => stream.once('close', r));
  return { status: Number(response[':status']), headers: response, body: Buffer.concat(chunks).toString() };
}

function flatten(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : String(v);
  return out;
}

/** An http2 server on 127.0.0.1: TLS with the test certificate (and HTTP/1.1 on the same port), or h2c. */
export async function listenHttp2(kind: 'tls' | 'h2c' = 'tls'): Promise<{ server: Http2SecureServer | Http2Server; port: number; origin: string; close: () => Promise<void> }> {
  const server = kind === 'tls' ? createSecureServer({ key: TLS_KEY, cert: TLS_CERT, allowHTTP1: true }) : createServer();
  const sessions = new Set<{ destroy(): void }>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    origin: `${kind === 'tls' ? 'https' : 'http'}://127.0.0.1:${port}`,
    close: () => {
      for (const s of sessions) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
