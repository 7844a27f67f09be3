import { RealtimeError } from 'tether-ws/realtime';
import type { DemoPage } from '../app/demo-page.js';
import { CALL_ROOM, MAX_SIGNAL_BYTES, roomTopic, validRoom } from './room.js';

/**
 * The video call's server side: who is in a room is the presence of the room's topic
 * (`call:<room>`), and signalling (offers, answers, ICE candidates, bye) goes from one
 * participant to another through `call.signal`, a request the server forwards with
 * emitTo after checking that both are in the room. Media never touches the server.
 */
export const page: DemoPage = {
  id: 'call',
  title: 'Video call',
  summary: 'A WebRTC meeting room whose signalling travels over Tether; media goes peer to peer.',
  mount(app) {
    const rt = app.realtime;
    app.topics(`${CALL_ROOM}:`, { presence: true, historySize: 0 });

    rt.handle('call.signal', async (data, session) => {
      const d = data as { to?: unknown; room?: unknown; signal?: unknown } | null;
      if (typeof d !== 'object' || d === null || typeof d.to !== 'string' || !validRoom(d.room) || typeof d.signal !== 'object' || d.signal === null) {
        throw new RealtimeError('bad_request', 'call.signal takes { to, room, signal }');
      }
      if (JSON.stringify(d.signal).length > MAX_SIGNAL_BYTES) throw new RealtimeError('too_big', 'signal too large');
      const topic = roomTopic(d.room);
      if (!session.topics.includes(topic)) throw new RealtimeError('forbidden', 'join the room first');
      const members = await rt.presence(topic);
      if (!members.some((m) => m.sessionId === d.to)) throw new RealtimeError('not_found', 'that participant is not in the room');
      await rt.emitTo(d.to, 'call.signal', { from: session.id, room: d.room, signal: d.signal });
      return true;
    });

    // Who is in a room, for the lobby (before joining, a visitor is not in the presence list).
    rt.handle('call.room', async (data) => {
      if (!validRoom(data)) throw new RealtimeError('bad_request', 'call.room takes a room name');
      const members = await rt.presence(roomTopic(data));
      return members.map((m) => (m.info as { name?: unknown } | null)?.name).filter((n): n is string => typeof n === 'string');
    });
  },
};
