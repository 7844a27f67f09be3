import { WebSocket } from '../client/index.js';
import { setDefaultWebSocket, type WebSocketConstructor } from './client/client-options.js';

// On Node the realtime client uses tether-ws's WebSocket unless told otherwise.
setDefaultWebSocket(WebSocket as unknown as WebSocketConstructor);

export { RealtimeServer, type EventHandler, type RequestHandler } from './server/realtime-server.js';
export { Session } from './server/session.js';
export type { RealtimeServerStats } from './server/realtime-stats.js';
export { Metrics, renderPrometheus, PROMETHEUS_CONTENT_TYPE, type MetricsOptions, type MetricsSnapshot, type StatsSource, type EventLoopDelay, type PromRegistryLike } from './server/metrics.js';
export type { RealtimeServerOptions, AuthResult, AuthContext, TopicOptions } from './server/realtime-options.js';
export { MemoryAdapter } from './adapters/memory-adapter.js';
export { RedisAdapter, type RedisAdapterOptions } from './adapters/redis-adapter.js';
export { NatsAdapter, type NatsAdapterOptions, type NatsConnectionLike, type NatsConnectOptions } from './adapters/nats-adapter.js';
export { ClusterAdapter, ClusterHub, type HubPeer, type IpcProcess } from './adapters/cluster-adapter.js';
export type { Adapter, AdapterLink, AdapterNode, Publication, HistoryResult, Member, TopicPolicy } from './adapters/adapter.js';
export * from './client/index.js';
export { Msg } from './wire/wire-protocol.js';
export { encodeMsgpack, decodeMsgpack, MsgpackError, MAX_DEPTH } from './wire/msgpack.js';
export { browserBundlePath, readBrowserBundle } from './browser-bundle.js';
export { jsonCodec, msgpackCodec, codecs, codecForSubprotocol, CodecError, BINARY_KEY, type Codec } from './wire/codec.js';
