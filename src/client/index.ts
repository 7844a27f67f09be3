export { WebSocket, type BinaryType, type WebSocketHandler, type WebSocketListener, type WebSocketSendData } from './websocket.js';
export { CloseEvent, ErrorEvent, type WebSocketEventMap, type WebSocketListenerOptions } from './events.js';
export type { WebSocketData } from './message-iterator.js';
export type { ClientOptions } from './options.js';
export { WebSocketStream, WebSocketError, type WebSocketStreamOptions, type WebSocketOpenInfo, type WebSocketCloseInfo, type WebSocketChunk } from './websocket-stream.js';
