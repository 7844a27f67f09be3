import { RealtimeError, type RealtimeServer, type RealtimeServerOptions } from '../realtime/index.js';

/**
 * The configuration of `tether serve --realtime --conformance`: the server the protocol
 * test vectors (docs/protocol-vectors.json) are written against, so that a client written
 * in any language can play them against a real server. Every rule here is listed in
 * docs/protocol.md §6; the project's own tests build their server from this same function.
 */
export function conformanceOptions(): RealtimeServerOptions<unknown> {
  return {
    authenticate(token) {
      if (token === 'deny') throw new RealtimeError('unauthorized', 'denied by the conformance hub');
      if (isRecord(token) && typeof token.expiresIn === 'number') {
        return { user: token, info: null, expiresAt: Date.now() + token.expiresIn };
      }
      return { user: token, info: typeof token === 'string' ? token : null };
    },
    authorize: {
      subscribe: (_s, topic) => !topic.startsWith('private/'),
      publish: (_s, topic) => !topic.startsWith('readonly/'),
    },
    topics(topic) {
      if (topic.startsWith('presence/')) return { presence: true };
      if (topic.startsWith('conflated/')) return { mode: 'conflated' };
      if (topic.startsWith('short/')) return { historySize: 3 };
      return undefined;
    },
    maxSubscriptions: 8,
    connectTimeout: 1000,
  };
}

/** Handlers of the conformance hub: requests and events the vectors use. */
export function addConformanceHandlers(rt: RealtimeServer<unknown>): void {
  rt.handle('echo', (data) => data);
  rt.handle('fail', (data) => {
    const d = isRecord(data) ? data : {};
    throw new RealtimeError(typeof d.code === 'string' ? d.code : 'failed', typeof d.message === 'string' ? d.message : 'failed on purpose');
  });
  rt.handle('crash', () => {
    throw new Error('a bug in a handler (its message stays on the server)');
  });
  // What the server decoded: the type of each element of an array (to check codecs).
  rt.handle('typeof', (data) => (Array.isArray(data) ? data.map(typeName) : typeName(data)));
  rt.on('echo', (data, s) => void s.emit('echo', data));
  // The server asks the client `question` and emits its answer (or the error code) back as `answer`.
  rt.on('ask', (data, s) => {
    s.request('question', data).then(
      (answer) => s.emit('answer', answer),
      (err: RealtimeError) => s.emit('answer', { error: err.code }),
    );
  });
  rt.on('subscribe-me', (topic, s) => {
    if (typeof topic === 'string') void s.subscribe(topic).catch(() => {});
  });
  rt.on('unsubscribe-me', (topic, s) => {
    if (typeof topic === 'string') void s.unsubscribe(topic, 'unsubscribed on request');
  });
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'bigint') return 'integer';
  return typeof v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
