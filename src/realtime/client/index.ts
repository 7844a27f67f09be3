/** The realtime client, browser-safe: this is the entry of the browser bundle. */
export { RealtimeClient, type ClientState, type StateChange } from './realtime-client.js';
export { Subscription, type PublicationMeta, type SubscribeResult, type PresenceMember } from './client-subscription.js';
export { setDefaultWebSocket, type RealtimeClientOptions, type WebSocketLike, type WebSocketConstructor } from './client-options.js';
export type { ServerUrls } from './server-urls.js';
export { RealtimeError } from '../wire/realtime-error.js';
export { ErrorCode, RealtimeClose } from '../wire/wire-protocol.js';
