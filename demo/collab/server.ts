import * as Y from 'yjs';
import { YjsServer } from 'tether-ws/yjs';
import type { DemoPage } from '../app/demo-page.js';
import { COLLAB_DOCUMENTS, COLLAB_SOCKET_PATH } from './documents.js';

/**
 * The seed of each document, built once with a fixed client id: the same update every
 * time, so after a server restart the copies clients bring back merge with it instead of
 * repeating the text.
 */
function seedOf(text: string): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = 1;
  doc.getText('body').insert(0, text);
  const update = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return update;
}

export const page: DemoPage = {
  id: 'collab',
  title: 'Collaborative editing',
  summary: 'A shared document on Yjs with remote cursors, through the stock y-websocket provider.',
  mount(app) {
    const seeds = new Map(COLLAB_DOCUMENTS.map((d) => [d.id, seedOf(d.seed)]));
    // The y-websocket protocol from tether-ws/yjs: ws://host/collab/ws/<document>.
    const yjs = new YjsServer({
      prefix: `${COLLAB_SOCKET_PATH}/`,
      // Only the documents the page offers: another name gets 404 at the handshake.
      websocket: { verify: (request) => seeds.has(decodeURIComponent(request.path.slice(COLLAB_SOCKET_PATH.length + 1))) || { status: 404, message: 'no such document' } },
      maxDocuments: COLLAB_DOCUMENTS.length,
      onDocument: (name, doc) => Y.applyUpdate(doc, seeds.get(name)!),
    });
    app.websocket(COLLAB_SOCKET_PATH, yjs.websocket);
    // The demo closes the endpoint (1012); this frees the documents and their awareness timers.
    app.onClose(() => yjs.close({ timeout: 0 }));
  },
};
