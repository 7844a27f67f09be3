/** Names shared by the call page's server and front-end. */
export const CALL_ROOM = 'call';
/** Largest signal (an SDP offer with a few candidates is a few KiB). */
export const MAX_SIGNAL_BYTES = 64 * 1024;

export function validRoom(room: unknown): room is string {
  return typeof room === 'string' && /^[a-z0-9-]{1,32}$/.test(room);
}

export function roomTopic(room: string): string {
  return `${CALL_ROOM}:${room}`;
}

/** What each participant announces in the room's presence. */
export interface CallPresence {
  name: string;
  /** Stays the same across reconnections (the session id does not): the key of a peer connection. */
  peer: string;
}

/** What travels between two participants through the server. */
export type Signal =
  | { kind: 'description'; description: { type: 'offer' | 'answer' | 'pranswer' | 'rollback'; sdp?: string } }
  | { kind: 'candidate'; candidate: { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null } }
  | { kind: 'state'; mic: boolean; cam: boolean }
  | { kind: 'bye' };
