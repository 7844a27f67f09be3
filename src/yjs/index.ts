export { YjsServer, YjsClose, attachYjs, type YjsServerOptions, type YjsWebSocketOptions } from './yjs-server.js';
export { YjsConnection, SharedDocument, type YjsSocket } from './shared-document.js';
export { MessageType, SyncType, YjsWireError } from './wire.js';
