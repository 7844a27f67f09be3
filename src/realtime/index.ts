import { WebSocket } from '../client/index.js';
import { setDefaultWebSocket, type WebSocketConstructor } from './client/client-options.js';

// On Node the realtime client uses tether-ws's WebSocket unless told otherwise.
setDefaultWebSocket(WebSocket as unknown as WebSocketConstructor);

export { RealtimeServer, type EventHandler, type RequestHandler } from './realtime-server.js';
export { Session } from './session.js';
export type { RealtimeServerStats } from './realtime-stats.js';
export type { RealtimeServerOptions, AuthResult, AuthContext, TopicOptions } from './realtime-options.js';
export { MemoryAdapter } from './memory-adapter.js';
export { RedisAdapter, type RedisAdapterOptions } from './redis-adapter.js';
export type { Adapter, AdapterLink, AdapterNode, Publication, HistoryResult, Member, TopicPolicy } from './adapter.js';
export * from './client/index.js';
export { Msg } from './wire-protocol.js';
export { encodeMsgpack, decodeMsgpack, MsgpackError, MAX_DEPTH } from './msgpack.js';
export { browserBundlePath, readBrowserBundle } from './browser-bundle.js';
export { jsonCodec, msgpackCodec, codecs, codecForSubprotocol, CodecError, BINARY_KEY, type Codec } from './codec.js';
