import { RealtimeError } from 'tether-ws/realtime';
import type { DemoPage } from '../app/demo-page.js';
import { isRoom, MAX_TEXT, ROOMS, roomTopic, typingTopic, type ChatMessage } from './chat-protocol.js';

/**
 * Chat: one reliable topic per room with presence and history (`chat:room:<room>`), and one
 * without history for typing indicators (`chat:typing:<room>`). Messages go through the
 * `chat.send` request so that the server stamps the sender's name and the time; the
 * client-made id is the publish's idempotency key, so a send retried after a lost connection
 * is published once.
 */
export const page: DemoPage = {
  id: 'chat',
  title: 'Chat',
  summary: 'Rooms, nicknames, presence, typing indicators, history on join, and a delivered tick on every message.',
  mount(app) {
    // The first matching prefix wins: typing first.
    app.topics('chat:typing:', { historySize: 0 });
    app.topics('chat:room:', { presence: true, historySize: 500, historyTtl: 24 * 3600_000 });
    const rt = app.realtime;

    rt.handle('chat.rooms', () => ROOMS);

    rt.handle('chat.send', async (data, session) => {
      const { room, id, text } = (data ?? {}) as Record<string, unknown>;
      if (!isRoom(room)) throw new RealtimeError('bad_request', 'unknown room');
      if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{8,40}$/.test(id)) throw new RealtimeError('bad_request', 'a message needs an id');
      if (typeof text !== 'string' || text.trim() === '') throw new RealtimeError('bad_request', 'empty message');
      if (text.length > MAX_TEXT) throw new RealtimeError('bad_request', `at most ${MAX_TEXT} characters`);
      const message: ChatMessage = { id, text: text.trim(), name: session.user.name, at: Date.now() };
      // The client's id is the publish's idempotency key: a send retried after a lost
      // connection is published once (the adapter remembers keys for two minutes).
      const { offset, duplicate } = await rt.publish(roomTopic(room), message, { idempotencyKey: id });
      return { offset, duplicate };
    });

    rt.handle('chat.history', async (data) => {
      const room = (data as { room?: unknown } | null)?.room;
      if (!isRoom(room)) throw new RealtimeError('bad_request', 'unknown room');
      const h = await rt.history(roomTopic(room), { last: 200 });
      return { epoch: h.epoch, offset: h.offset, messages: h.publications.map((p) => ({ offset: p.offset, message: p.data })) };
    });

    rt.on('chat.typing', (data, session) => {
      const room = (data as { room?: unknown } | null)?.room;
      if (!isRoom(room) || !session.topics.includes(roomTopic(room))) return;
      void rt.publish(typingTopic(room), { name: session.user.name, sessionId: session.id }, { except: session });
    });
  },
};
