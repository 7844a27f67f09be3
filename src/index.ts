export { WebSocketServer, ServerSocket, SendStatus, type SendOptions, type ServerOptions, type ServerHandlers, type UpgradeRequest, type VerifyResult, type WebSocketServerStats } from './server/index.js';
export { WebSocket, CloseEvent, ErrorEvent, type BinaryType, type ClientOptions, type WebSocketData, type WebSocketEventMap, type WebSocketHandler, type WebSocketListener, type WebSocketListenerOptions, type WebSocketSendData } from './client/index.js';
export { CloseCode, ReadyState, type PerMessageDeflateOptions } from './protocol/index.js';
