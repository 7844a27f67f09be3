export { YjsServer, YjsClose, attachYjs, type YjsServerOptions } from './yjs-server.js';
export { YjsConnection } from './shared-document.js';
export { MessageType, SyncType, YjsWireError } from './wire.js';
