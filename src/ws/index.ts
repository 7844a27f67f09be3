/**
 * `tether-ws/ws`: ws 8's public API on Tether's engine. Change `from 'ws'` to
 * `from 'tether-ws/ws'` (or `require('ws')` to `require('tether-ws/ws')`).
 */
import { createWebSocketStream } from './stream.js';
import { WebSocket } from './websocket.js';
import { WebSocketServer, type ServerOptions, type VerifyClientCallbackAsync, type VerifyClientCallbackSync } from './websocket-server.js';

// Declared here, where they are set, so that websocket.ts imports neither the server nor the
// stream (both import it). The aliases keep the namespace's names from shadowing the classes.
type ServerClass = typeof WebSocketServer;
type StreamFunction = typeof createWebSocketStream;
type ServerOptionsType = ServerOptions;
type VerifySync = VerifyClientCallbackSync;
type VerifyAsync = VerifyClientCallbackAsync;
declare module './websocket.js' {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace WebSocket {
    let WebSocketServer: ServerClass;
    let Server: ServerClass;
    let createWebSocketStream: StreamFunction;
    type ServerOptions = ServerOptionsType;
    type VerifyClientCallbackSync = VerifySync;
    type VerifyClientCallbackAsync = VerifyAsync;
  }
}

// As in ws, the default export is the WebSocket class carrying the rest as properties.
WebSocket.WebSocket = WebSocket;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.Server = WebSocketServer;
WebSocket.createWebSocketStream = createWebSocketStream;

export default WebSocket;
export { WebSocket, WebSocketServer, WebSocketServer as Server, createWebSocketStream };
export type { SendOptions, Callback, WebSocketEvents } from './websocket.js';
export type { ClientOptions } from './websocket.js';
export type { ServerOptions, ResolvedOptions, WebSocketServerEvents, VerifyClientInfo, VerifyClientCallbackSync, VerifyClientCallbackAsync } from './websocket-server.js';
export type { WsDeflateOptions as PerMessageDeflateOptions } from './deflate-options.js';
export type { BinaryType } from './binary.js';
export { Event, MessageEvent, CloseEvent, ErrorEvent, type EventListener } from './event-target.js';
