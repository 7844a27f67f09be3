/**
 * `tether-ws/ws`: ws 8's public API on Tether's engine. Change `from 'ws'` to
 * `from 'tether-ws/ws'` (or `require('ws')` to `require('tether-ws/ws')`).
 */
import { createWebSocketStream } from './stream.js';
import { WebSocket } from './websocket.js';
import { WebSocketServer } from './websocket-server.js';

// As in ws, the default export is the WebSocket class carrying the rest as properties.
WebSocket.WebSocket = WebSocket;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.Server = WebSocketServer;
WebSocket.createWebSocketStream = createWebSocketStream;

export default WebSocket;
export { WebSocket, WebSocketServer, WebSocketServer as Server, createWebSocketStream };
export type { SendOptions, WebSocketEvents } from './websocket.js';
export type { ClientOptions } from './client-request.js';
export type { ServerOptions, WebSocketServerEvents, VerifyClientInfo, VerifyClientCallbackSync, VerifyClientCallbackAsync } from './websocket-server.js';
export type { WsDeflateOptions as PerMessageDeflateOptions } from './deflate-options.js';
export type { BinaryType } from './binary.js';
export { Event, MessageEvent, CloseEvent, ErrorEvent } from './event-target.js';
