export { WebSocketServer } from './websocket-server.js';
export { ServerSocket, SendStatus, type SendOptions } from './server-socket.js';
export type { ServerOptions, ServerHandlers, VerifyResult, ResolvedServerOptions } from './options.js';
export type { UpgradeRequest } from './upgrade-request.js';
export { PreparedMessage } from './prepared-message.js';
export type { WebSocketServerStats } from './server-stats.js';
export type { Http2ServerLike } from './http2-upgrade.js';
