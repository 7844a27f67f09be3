export { WebSocket, type BinaryType } from './websocket.js';
export { CloseEvent, ErrorEvent } from './events.js';
export type { ClientOptions } from './options.js';
