/** What the chat page's server and front-end agree on. */

export const ROOMS = ['lobby', 'random', 'tether-dev'];
export const MAX_TEXT = 1000;

export interface ChatMessage {
  /** Made by the sending client: the same id on a retry, so a message is shown once. */
  id: string;
  text: string;
  name: string;
  /** Server time (ms). */
  at: number;
}

export function isRoom(v: unknown): v is string {
  return typeof v === 'string' && ROOMS.includes(v);
}

export const roomTopic = (room: string): string => `chat:room:${room}`;
export const typingTopic = (room: string): string => `chat:typing:${room}`;
