import { RealtimeClient } from '../../src/realtime/client/index.js';
import { connectionState } from './connection-state.js';

export { RealtimeClient };

/** ws:// or wss:// URL of a path on this page's server. */
export function wsUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}

const NAME_KEY = 'tether-live:name';
const ADJECTIVES = ['Swift', 'Quiet', 'Brave', 'Lucky', 'Clever', 'Sunny', 'Misty', 'Bold', 'Calm', 'Eager'];
const ANIMALS = ['Otter', 'Falcon', 'Lynx', 'Panda', 'Heron', 'Fox', 'Koala', 'Orca', 'Yak', 'Wren'];

/** This browser's nickname: kept in localStorage (sessionStorage when ?fresh is in the URL, for tests). */
export function nickname(): string {
  const store = storage();
  let name = store.getItem(NAME_KEY);
  if (!name) {
    const pick = (list: string[]) => list[Math.floor(Math.random() * list.length)]!;
    name = `${pick(ADJECTIVES)} ${pick(ANIMALS)}`;
    store.setItem(NAME_KEY, name);
  }
  return name;
}

export function setNickname(name: string): void {
  storage().setItem(NAME_KEY, name);
}

function storage(): Storage {
  return new URLSearchParams(location.search).has('fresh') ? sessionStorage : localStorage;
}

/**
 * The page's realtime client on the demo's shared endpoint (/rt), with the header's
 * connection badge bound to its state. Reconnection is quick (a demo server restarts in a
 * second), and a draining server's delay hint is followed.
 */
export function connectRealtime(options: { codec?: 'json' | 'msgpack' } = {}): RealtimeClient {
  const client = new RealtimeClient(wsUrl('/rt'), {
    token: () => ({ name: nickname() }),
    codec: options.codec ?? 'json',
    reconnect: { minDelay: 250, maxDelay: 5000, factor: 2 },
  });
  let wasLive = false;
  client.onState((change) => {
    if (change.state === 'connecting') connectionState.set(wasLive ? 'reconnecting' : 'connecting');
    else if (change.state === 'connected') {
      wasLive = true;
      connectionState.set('live');
    }
    else if (change.state === 'disconnected') connectionState.set('reconnecting', change.delay);
    else if (change.state === 'closed') connectionState.set('offline');
  });
  return client;
}
