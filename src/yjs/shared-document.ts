import * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import type { ServerSocket, WebSocketServer } from '../server/index.js';
import { checkAwarenessUpdate, encodeMessage, MessageType, SyncType, WireReader, YjsWireError } from './wire.js';

/** What the server keeps per connection (the socket's `data`). */
export class YjsConnection {
  /** Awareness client ids this connection announced: removed when it leaves. */
  readonly clients = new Set<number>();

  constructor(
    /** The document this connection edits. */
    readonly document: SharedDocument,
    /** What the websocket.verify hook put in request.data (an authenticated user, say). */
    readonly user: unknown,
  ) {}
}

/** A connection to a document. */
export type YjsSocket = ServerSocket<YjsConnection>;

interface AwarenessChange {
  added: number[];
  updated: number[];
  removed: number[];
}

/**
 * One document shared by the connections of its room: the Y.Doc, its awareness (cursors,
 * names), and the sockets editing it. Updates from one connection go to the others, framed
 * once; awareness changes go to everyone, the sender included (y-websocket counts them as
 * the sign that its connection is alive).
 */
export class SharedDocument {
  readonly doc: Y.Doc;
  readonly awareness: Awareness;
  readonly connections = new Set<YjsSocket>();

  constructor(
    readonly name: string,
    private readonly websocket: WebSocketServer<YjsConnection>,
  ) {
    this.doc = new Y.Doc({ gc: true });
    this.awareness = new Awareness(this.doc);
    // The server is not a participant: it has no awareness state of its own.
    this.awareness.setLocalState(null);
    this.doc.on('update', (update: Uint8Array, origin: unknown) => this.updated(update, origin));
    this.awareness.on('update', (change: AwarenessChange, origin: unknown) => this.awarenessChanged(change, origin));
  }

  /** A connection joined: send our state vector (sync step 1) and everyone's awareness. */
  join(ws: YjsSocket): void {
    this.connections.add(ws);
    ws.send(encodeMessage([MessageType.Sync, SyncType.Step1], Y.encodeStateVector(this.doc)));
    const states = [...this.awareness.getStates().keys()];
    if (states.length > 0) ws.send(encodeMessage([MessageType.Awareness], encodeAwarenessUpdate(this.awareness, states)));
  }

  /** A connection left: forget it and tell the others its cursors are gone. */
  leave(ws: YjsSocket): void {
    this.connections.delete(ws);
    const ids = [...ws.data.clients];
    ws.data.clients.clear();
    if (ids.length > 0) removeAwarenessStates(this.awareness, ids, null);
  }

  /**
   * Handles one message from a connection. Throws YjsWireError for a message that does not
   * follow the protocol; nothing of it has been applied then.
   */
  receive(ws: YjsSocket, message: Uint8Array): void {
    const r = new WireReader(message);
    const type = r.varUint();
    switch (type) {
      case MessageType.Sync: {
        const step = r.varUint();
        const payload = r.bytesField();
        r.end();
        if (step === SyncType.Step1) {
          let diff: Uint8Array;
          try {
            diff = Y.encodeStateAsUpdate(this.doc, payload);
          } catch {
            throw new YjsWireError('sync step 1 carries a malformed state vector');
          }
          ws.send(encodeMessage([MessageType.Sync, SyncType.Step2], diff));
          return;
        }
        if (step !== SyncType.Step2 && step !== SyncType.Update) throw new YjsWireError(`unknown sync message type ${step}`, 1003);
        // Applying stops half-way on a broken update (structs first, deletions after):
        // decode it completely first so that a bad one changes nothing.
        try {
          Y.decodeUpdate(payload);
        } catch {
          throw new YjsWireError('malformed Yjs update');
        }
        // A copy: Yjs keeps views into updates (binary content), which would pin the socket's whole read chunk.
        Y.applyUpdate(this.doc, payload.slice(), ws);
        return;
      }
      case MessageType.Awareness: {
        const update = r.bytesField();
        r.end();
        checkAwarenessUpdate(update);
        applyAwarenessUpdate(this.awareness, update, ws);
        return;
      }
      case MessageType.QueryAwareness: {
        r.end();
        const states = [...this.awareness.getStates().keys()];
        ws.send(encodeMessage([MessageType.Awareness], encodeAwarenessUpdate(this.awareness, states)));
        return;
      }
      case MessageType.Auth:
        // Auth messages travel from server to client (permission denied); one from a client means nothing.
        return;
      default:
        throw new YjsWireError(`unknown message type ${type}`, 1003);
    }
  }

  /** Frees the document (its awareness timer included) after closing its connections. */
  destroy(): void {
    this.doc.destroy();
  }

  private updated(update: Uint8Array, origin: unknown): void {
    if (this.connections.size === 0) return;
    const except = this.connections.has(origin as YjsSocket) ? (origin as YjsSocket) : undefined;
    this.websocket.broadcast(encodeMessage([MessageType.Sync, SyncType.Update], update), { to: this.connections, except });
  }

  private awarenessChanged({ added, updated, removed }: AwarenessChange, origin: unknown): void {
    if (this.connections.has(origin as YjsSocket)) {
      const mine = (origin as YjsSocket).data.clients;
      for (const id of added) mine.add(id);
      for (const id of updated) mine.add(id);
      for (const id of removed) mine.delete(id);
    }
    if (this.connections.size === 0) return;
    const changed = [...added, ...updated, ...removed];
    this.websocket.broadcast(encodeMessage([MessageType.Awareness], encodeAwarenessUpdate(this.awareness, changed)), { to: this.connections });
  }
}
