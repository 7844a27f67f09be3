import { appRoot, connectRealtime, h, nickname } from '../shared/page.js';
import { chooseIcePolicy, type IcePolicy } from './ice-policy.js';
import { Peer } from './peer.js';
import { roomTopic, validRoom, type CallPresence, type Signal } from './room.js';
import type { Subscription } from 'tether-ws/realtime';
import './call.css';

/** A participant who vanished from presence keeps their connection this long (a server restart leaves media flowing). */
const GRACE_MS = 8000;

const me = nickname();
const myPeerId = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
const room = validRoom(location.hash.slice(1)) ? location.hash.slice(1) : 'lobby';

// ---- layout -----------------------------------------------------------------------

const grid = h('div', { class: 'call-grid', 'data-count': '1' });
const localVideo = h('video', { autoplay: true, playsinline: true, muted: true, class: 'mirror' });
const localTile = h('figure', { class: 'call-tile local' }, localVideo, h('figcaption', {}, h('span', { class: 'call-name' }, `${me} (you)`), h('span', { class: 'call-badge', 'data-off': 'mic' }, 'mic off')));
// The property, not only the attribute: our own microphone must never play back.
localVideo.muted = true;
grid.append(localTile);
const lobby = h('p', { class: 'call-lobby muted' }, 'Looking into the room…');
const micBtn = h('button', { class: 'btn', type: 'button', 'aria-pressed': 'true', disabled: true }, 'Mic on');
const camBtn = h('button', { class: 'btn', type: 'button', 'aria-pressed': 'true', disabled: true }, 'Camera on');
const joinBtn = h('button', { class: 'btn primary', type: 'button', disabled: true }, 'Join the call');
const people = h('ul', { class: 'call-people' });
const log = h('ol', { class: 'call-log' });
const summary = h('p', { class: 'call-summary' }, 'Nothing yet.');
const mediaNote = h('p', { class: 'call-note', hidden: true });

appRoot().append(
  h(
    'div',
    { class: 'call' },
    h(
      'section',
      { class: 'call-main' },
      h('div', { class: 'call-head' }, h('h1', {}, 'Room ', h('span', { class: 'call-room' }, room)), lobby),
      grid,
      mediaNote,
      h('div', { class: 'call-controls' }, micBtn, camBtn, joinBtn),
    ),
    h(
      'aside',
      { class: 'call-side' },
      h('div', { class: 'panel' }, h('h2', {}, 'In the call'), people),
      h('div', { class: 'panel' }, h('h2', {}, 'Signalling over Tether'), h('p', { class: 'muted call-small' }, 'Offers, answers and ICE candidates travel through the server; audio and video go straight between browsers.'), summary, log),
    ),
  ),
);

// ---- state ------------------------------------------------------------------------

const client = connectRealtime();
const peers = new Map<string, Peer>();
const tiles = new Map<string, { tile: HTMLElement; video: HTMLVideoElement; name: HTMLElement; state: HTMLElement; mic: HTMLElement }>();
/** Signals from sessions not (yet) in our presence list, replayed when they appear. */
const early = new Map<string, Signal[]>();
let local: MediaStream | null = null;
let ice: IcePolicy | null = null;
let sub: Subscription | null = null;
let micOn = true;
let camOn = true;

/** Signals by kind, both ways, and their bytes: what the server carried for this page. */
const counts = { sent: {} as Record<string, number>, received: {} as Record<string, number>, bytes: 0 };

function count(direction: '→' | '←', signal: Signal, bytes: number): void {
  const kind = signal.kind === 'description' ? signal.description.type : signal.kind;
  const side = direction === '→' ? counts.sent : counts.received;
  side[kind] = (side[kind] ?? 0) + 1;
  counts.bytes += bytes;
  const total = (k: string): number => (counts.sent[k] ?? 0) + (counts.received[k] ?? 0);
  const parts = [`${total('offer') + total('answer')} offers and answers`, `${total('candidate')} ICE candidates`];
  summary.textContent = `${parts.join(', ')}: ${(counts.bytes / 1024).toFixed(1)} KiB through the server.`;
}

function note(direction: '→' | '←', kind: string, who: string, bytes: number): void {
  const item = h('li', {}, h('span', { class: 'call-dir' }, direction), ` ${kind} `, h('span', { class: 'muted' }, `${direction === '→' ? 'to' : 'from'} ${who} · ${bytes} B`));
  log.prepend(item);
  while (log.children.length > 8) log.lastElementChild!.remove();
}

function describe(signal: Signal): string {
  if (signal.kind === 'description') return signal.description.type;
  if (signal.kind === 'candidate') return `candidate ${signal.candidate.candidate.split(' ')[4] ?? ''}`;
  return signal.kind;
}

function sendTo(peer: Peer, signal: Signal): void {
  const bytes = JSON.stringify(signal).length;
  note('→', describe(signal), peer.name, bytes);
  count('→', signal, bytes);
  client.request('call.signal', { to: peer.sessionId, room, signal }).catch((err: Error) => console.warn(`call: signal to ${peer.name} failed: ${err.message}`));
}

client.on('call.signal', (data) => {
  const { from, room: r, signal } = data as { from: string; room: string; signal: Signal };
  if (r !== room || sub === null) return;
  const peer = [...peers.values()].find((p) => p.sessionId === from);
  if (peer === undefined) {
    const list = early.get(from) ?? [];
    if (list.length < 200) list.push(signal);
    early.set(from, list);
    return;
  }
  deliver(peer, signal);
});

function deliver(peer: Peer, signal: Signal): void {
  const bytes = JSON.stringify(signal).length;
  note('←', describe(signal), peer.name, bytes);
  count('←', signal, bytes);
  if (signal.kind === 'bye') return drop(peer);
  peer.receive(signal).catch((err) => console.warn('call: signal failed', err));
}

// ---- presence → peers -------------------------------------------------------------

function reconcile(): void {
  if (sub === null || ice === null) return;
  const present = new Set<string>();
  for (const [sessionId, info] of sub.members) {
    const p = info as CallPresence | null;
    if (typeof p?.peer !== 'string' || p.peer === myPeerId) continue;
    present.add(p.peer);
    let peer = peers.get(p.peer);
    if (peer === undefined) {
      const created: Peer = new Peer(p.peer, myPeerId, sessionId, String(p.name), local, ice, (s) => sendTo(created, s), () => render(created));
      peer = created;
      peers.set(p.peer, peer);
      sendTo(peer, { kind: 'state', mic: micOn, cam: camOn });
    }
    peer.sessionId = sessionId;
    peer.goneSince = 0;
    const waiting = early.get(sessionId);
    if (waiting !== undefined) {
      early.delete(sessionId);
      for (const s of waiting) deliver(peer, s);
    }
    render(peer);
  }
  for (const peer of peers.values()) if (!present.has(peer.peerId) && peer.goneSince === 0) peer.goneSince = Date.now();
  renderPeople();
}

function drop(peer: Peer): void {
  peer.close();
  peers.delete(peer.peerId);
  tiles.get(peer.peerId)?.tile.remove();
  tiles.delete(peer.peerId);
  grid.dataset.count = String(tiles.size + 1);
  renderPeople();
}

setInterval(() => {
  const now = Date.now();
  for (const peer of [...peers.values()]) {
    const dead = peer.pc.connectionState === 'failed' || peer.pc.connectionState === 'closed';
    if (peer.goneSince !== 0 && (dead || now - peer.goneSince > GRACE_MS)) drop(peer);
  }
}, 1000);

const STATE_TEXT: Record<string, string> = { new: 'connecting…', connecting: 'connecting…', connected: 'connected', disconnected: 'reconnecting…', failed: 'failed', closed: 'left' };

function render(peer: Peer): void {
  let t = tiles.get(peer.peerId);
  if (t === undefined) {
    const video = h('video', { autoplay: true, playsinline: true });
    video.srcObject = peer.stream;
    const name = h('span', { class: 'call-name' });
    const state = h('span', { class: 'call-state' });
    const mic = h('span', { class: 'call-badge', 'data-off': 'mic' }, 'mic off');
    const tile = h('figure', { class: 'call-tile', 'data-peer': peer.peerId }, video, h('figcaption', {}, name, mic, state));
    t = { tile, video, name, state, mic };
    tiles.set(peer.peerId, t);
    grid.append(tile);
    grid.dataset.count = String(tiles.size + 1);
  }
  if (t.video.srcObject !== peer.stream) t.video.srcObject = peer.stream;
  t.name.textContent = peer.name;
  t.state.textContent = STATE_TEXT[peer.pc.connectionState] ?? peer.pc.connectionState;
  t.state.dataset.state = peer.pc.connectionState;
  t.mic.hidden = peer.mic;
  t.tile.dataset.cam = String(peer.cam);
  renderPeople();
}

function renderPeople(): void {
  const rows = [h('li', {}, h('span', { class: 'call-dot', 'data-state': sub === null ? 'out' : 'connected' }), `${me} (you)`, sub === null ? h('span', { class: 'muted' }, ' · not joined') : null)];
  for (const p of peers.values()) {
    // Away: gone from the room's presence (a server restart, a lost connection) while the media may still flow.
    const state = p.goneSince !== 0 ? 'away' : (STATE_TEXT[p.pc.connectionState] ?? p.pc.connectionState);
    rows.push(h('li', {}, h('span', { class: 'call-dot', 'data-state': p.pc.connectionState }), p.name, h('span', { class: 'muted' }, ` · ${state}`)));
  }
  people.replaceChildren(...rows);
}

// ---- joining and leaving ------------------------------------------------------------

function join(): void {
  if (sub !== null) return;
  sub = client.subscribe(roomTopic(room), { info: { name: me, peer: myPeerId } satisfies CallPresence });
  sub.on('subscribed', reconcile);
  sub.on('join', reconcile);
  sub.on('leave', reconcile);
  joinBtn.textContent = 'Leave';
  joinBtn.classList.remove('primary');
  joinBtn.classList.add('danger');
  lobby.textContent = 'You are in the call. Share this page’s address to invite someone.';
  renderPeople();
}

function leave(): void {
  if (sub === null) return;
  for (const peer of [...peers.values()]) {
    sendTo(peer, { kind: 'bye' });
    drop(peer);
  }
  void sub.unsubscribe();
  sub = null;
  early.clear();
  joinBtn.textContent = 'Join the call';
  joinBtn.classList.add('primary');
  joinBtn.classList.remove('danger');
  renderPeople();
  void lookIntoRoom();
}

joinBtn.addEventListener('click', () => (sub === null ? join() : leave()));
addEventListener('pagehide', () => {
  for (const peer of peers.values()) sendTo(peer, { kind: 'bye' });
});

function setMedia(): void {
  for (const t of local?.getAudioTracks() ?? []) t.enabled = micOn;
  for (const t of local?.getVideoTracks() ?? []) t.enabled = camOn;
  micBtn.textContent = micOn ? 'Mic on' : 'Mic off';
  camBtn.textContent = camOn ? 'Camera on' : 'Camera off';
  micBtn.setAttribute('aria-pressed', String(micOn));
  camBtn.setAttribute('aria-pressed', String(camOn));
  localTile.dataset.cam = String(camOn);
  (localTile.querySelector('.call-badge') as HTMLElement).hidden = micOn;
  for (const peer of peers.values()) sendTo(peer, { kind: 'state', mic: micOn, cam: camOn });
}
micBtn.addEventListener('click', () => {
  micOn = !micOn;
  setMedia();
});
camBtn.addEventListener('click', () => {
  camOn = !camOn;
  setMedia();
});

/** Before joining: who is already in the call. */
async function lookIntoRoom(): Promise<void> {
  if (sub !== null || client.state !== 'connected') return;
  try {
    const names = (await client.request('call.room', room)) as string[];
    if (sub !== null) return;
    lobby.textContent = names.length === 0 ? 'Nobody is in the call yet: join and share this page’s address.' : `In the call: ${names.join(', ')}.`;
  } catch {
    // Shown again at the next look.
  }
}
client.onState((c) => {
  if (c.state === 'connected') void lookIntoRoom();
});
setInterval(() => void lookIntoRoom(), 3000);

async function start(): Promise<void> {
  try {
    local = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 }, audio: true });
    localVideo.srcObject = local;
    micBtn.disabled = false;
    camBtn.disabled = false;
  } catch (err) {
    local = null;
    localTile.dataset.cam = 'false';
    mediaNote.hidden = false;
    mediaNote.textContent = `No camera or microphone (${(err as Error).name}): you can still join, see and hear the others.`;
  }
  ice = await chooseIcePolicy();
  setMedia();
  joinBtn.disabled = false;
  renderPeople();
}
void start();

/** For the tests and the curious. */
(globalThis as { tetherCall?: unknown }).tetherCall = {
  joined: () => sub !== null,
  loopbackOnly: () => ice?.loopbackOnly ?? null,
  /** Signals sent and received, by kind (offer, answer, candidate, state, bye). */
  signals: () => ({ sent: { ...counts.sent }, received: { ...counts.received } }),
  peers: () =>
    [...peers.values()].map((p) => {
      const v = tiles.get(p.peerId)?.video;
      return { name: p.name, present: p.goneSince === 0, connectionState: p.pc.connectionState, videoWidth: v?.videoWidth ?? 0, currentTime: v?.currentTime ?? 0, tracks: p.stream.getTracks().map((t) => t.kind) };
    }),
  /** The addresses of each connection's selected candidate pair. */
  pairs: async () => {
    const out: Array<{ name: string; local: string; remote: string }> = [];
    for (const p of peers.values()) {
      const stats = new Map<string, Record<string, unknown>>();
      (await p.pc.getStats()).forEach((v: Record<string, unknown>, k: string) => stats.set(k, v));
      for (const s of stats.values()) {
        if (s.type !== 'transport' || typeof s.selectedCandidatePairId !== 'string') continue;
        const pair = stats.get(s.selectedCandidatePairId);
        const l = stats.get(String(pair?.localCandidateId));
        const r = stats.get(String(pair?.remoteCandidateId));
        out.push({ name: p.name, local: String(l?.address), remote: String(r?.address) });
      }
    }
    return out;
  },
};
