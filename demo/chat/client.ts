import { appRoot, connectRealtime, h, nickname, setNickname } from '../shared/page.js';
import type { RealtimeError, Subscription } from '../../src/realtime/client/index.js';
import { MAX_TEXT, ROOMS, roomTopic, typingTopic, type ChatMessage } from './chat-protocol.js';
import './chat.css';

type Status = 'pending' | 'delivered' | 'received' | 'failed';
interface Entry {
  message: ChatMessage;
  status: Status;
  mine: boolean;
  el: HTMLLIElement | null;
}

const params = new URLSearchParams(location.search);
if (params.get('name')) setNickname(params.get('name')!.slice(0, 24));
const me = nickname();
let room = ROOMS.includes(params.get('room') ?? '') ? params.get('room')! : (localStorage.getItem('tether-live:room') ?? 'lobby');
if (!ROOMS.includes(room)) room = 'lobby';

const client = connectRealtime();

// ---- layout --------------------------------------------------------------------------
const roomList = h('nav', { class: 'chat-rooms', 'aria-label': 'Rooms' });
const people = h('ul', { class: 'chat-people', 'aria-label': 'People in this room' });
const peopleCount = h('span', { class: 'chat-count' });
const list = h('ol', { class: 'chat-messages', 'aria-live': 'polite' });
const typing = h('div', { class: 'chat-typing', 'aria-live': 'polite' });
const input = h('input', { class: 'input chat-input', placeholder: 'Write a message…', maxlength: MAX_TEXT, autocomplete: 'off', 'aria-label': 'Message' });
const form = h('form', { class: 'chat-composer' }, input, h('button', { class: 'btn primary', type: 'submit' }, 'Send'));
const title = h('h2', { class: 'chat-title' });
const nameButton = h('button', { class: 'chat-me', type: 'button', title: 'Change your nickname' }, h('span', { class: 'muted' }, 'You are '), h('strong', {}, me), ' ✎');

appRoot().append(
  h('div', { class: 'chat' },
    h('aside', { class: 'chat-side panel' }, nameButton, h('h3', {}, 'Rooms'), roomList, h('h3', {}, 'Here now ', peopleCount), people),
    h('section', { class: 'chat-main panel' }, h('header', { class: 'chat-head' }, title), list, typing, form),
  ),
);

nameButton.addEventListener('click', () => {
  const name = prompt('Your nickname', me)?.trim();
  if (name && name !== me) {
    setNickname(name.slice(0, 24));
    location.reload();
  }
});

// ---- messages ------------------------------------------------------------------------
let entries = new Map<string, Entry>();
/** Sends not yet acknowledged: retried after a reconnect with the same id (the server publishes once). */
const outbox = new Map<string, { room: string; text: string; inFlight: boolean }>();

function order(a: Entry, b: Entry): number {
  return a.message.at - b.message.at || (a.message.id < b.message.id ? -1 : 1);
}

function time(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function renderEntry(e: Entry): HTMLLIElement {
  const status = e.mine ? h('span', { class: 'chat-status', title: e.status === 'delivered' ? 'delivered' : e.status === 'failed' ? 'not sent' : 'sending…' }, e.status === 'delivered' ? '✓' : e.status === 'failed' ? '!' : '◷') : null;
  const li = h('li', { class: `chat-msg${e.mine ? ' mine' : ''}`, 'data-id': e.message.id, 'data-status': e.status },
    h('div', { class: 'chat-meta' }, h('span', { class: 'chat-name' }, e.message.name), h('time', {}, time(e.message.at)), status),
    h('div', { class: 'chat-text' }, e.message.text),
  );
  e.el?.replaceWith(li);
  e.el = li;
  return li;
}

/** Adds or updates a message; ids make it idempotent (history, live and retries may all bring it). */
function upsert(message: ChatMessage, status: Status): void {
  const existing = entries.get(message.id);
  const mine = message.name === me && (existing?.mine ?? outbox.has(message.id) ?? false);
  if (existing !== undefined) {
    // A message seen in the topic is published: a pending one of ours is delivered.
    const next: Status = existing.status === 'delivered' || status === 'delivered' || (existing.mine && status === 'received') ? 'delivered' : existing.status;
    const moved = existing.message.at !== message.at;
    existing.message = existing.status === 'pending' || existing.status === 'failed' ? message : existing.message;
    if (next !== existing.status || moved) {
      existing.status = existing.mine ? next : existing.status;
      if (moved) return renderAll();
      renderEntry(existing);
    }
    return;
  }
  const e: Entry = { message, status: mine && status === 'received' ? 'delivered' : status, mine: mine || status === 'pending', el: null };
  entries.set(message.id, e);
  const last = list.lastElementChild as HTMLLIElement | null;
  const lastEntry = last ? entries.get(last.dataset.id!) : undefined;
  if (lastEntry === undefined || order(lastEntry, e) < 0) {
    const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.append(renderEntry(e));
    if (stick || e.mine) list.scrollTop = list.scrollHeight;
  } else {
    renderAll();
  }
}

function renderAll(): void {
  list.replaceChildren(...[...entries.values()].sort(order).map((e) => (e.el = null, renderEntry(e))));
  list.scrollTop = list.scrollHeight;
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_');
}

function send(text: string): void {
  const id = randomId();
  outbox.set(id, { room, text, inFlight: false });
  upsert({ id, text, name: me, at: Date.now() }, 'pending');
  trySend(id);
}

function trySend(id: string): void {
  const o = outbox.get(id);
  if (o === undefined || o.inFlight) return;
  o.inFlight = true;
  client.request('chat.send', { room: o.room, id, text: o.text }, { timeout: 60_000 }).then(
    () => {
      outbox.delete(id);
      const e = entries.get(id);
      if (e && e.status !== 'delivered') {
        e.status = 'delivered';
        renderEntry(e);
      }
    },
    (err: RealtimeError) => {
      o.inFlight = false;
      // Lost with the connection (it may or may not have been published): sent again once connected.
      if (err.code === 'disconnected' || err.code === 'timeout' || err.code === 'queue_full') return;
      outbox.delete(id);
      const e = entries.get(id);
      if (e) {
        e.status = 'failed';
        renderEntry(e);
      }
    },
  );
}

client.onState((s) => {
  if (s.state === 'connected') for (const [id, o] of outbox) if (o.room === room) trySend(id);
});

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = input.value.trim();
  if (text === '') return;
  input.value = '';
  send(text);
});

// ---- presence and typing -------------------------------------------------------------
let roomSub: Subscription | null = null;
let typingSub: Subscription | null = null;
const typists = new Map<string, { name: string; until: number }>();

function renderPeople(): void {
  if (roomSub === null) return;
  const byName = new Map<string, number>();
  for (const info of roomSub.members.values()) {
    const name = (info as { name?: string } | null)?.name ?? 'guest';
    byName.set(name, (byName.get(name) ?? 0) + 1);
  }
  const names = [...byName.keys()].sort((a, b) => (a === me ? -1 : b === me ? 1 : a.localeCompare(b)));
  people.replaceChildren(...names.map((n) => h('li', { 'data-name': n }, h('span', { class: 'dot' }), n, n === me ? h('span', { class: 'muted' }, ' (you)') : null, byName.get(n)! > 1 ? h('span', { class: 'muted' }, ` ×${byName.get(n)}`) : null)));
  peopleCount.textContent = String(roomSub.members.size);
}

function renderTyping(): void {
  const now = Date.now();
  for (const [k, t] of typists) if (t.until < now) typists.delete(k);
  const names = [...new Set([...typists.values()].map((t) => t.name))];
  typing.textContent = names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…` : names.length === 2 ? `${names[0]} and ${names[1]} are typing…` : `${names.length} people are typing…`;
}
setInterval(renderTyping, 500);

let lastTyping = 0;
input.addEventListener('input', () => {
  const now = Date.now();
  if (input.value !== '' && now - lastTyping > 2000 && client.state === 'connected') {
    lastTyping = now;
    client.emit('chat.typing', { room });
  }
});

// ---- rooms ---------------------------------------------------------------------------
async function loadHistory(forRoom: string): Promise<void> {
  try {
    const res = (await client.request('chat.history', { room: forRoom })) as { messages: Array<{ message: ChatMessage }> };
    if (forRoom !== room) return;
    for (const m of res.messages) upsert(m.message, 'received');
  } catch {
    // Lost with the connection: the next subscribe reply asks again.
  }
}

function join(next: string): void {
  void roomSub?.unsubscribe();
  void typingSub?.unsubscribe();
  room = next;
  localStorage.setItem('tether-live:room', room);
  history.replaceState(null, '', `?room=${room}`);
  entries = new Map();
  list.replaceChildren();
  typists.clear();
  title.textContent = `# ${room}`;
  roomList.querySelectorAll('button').forEach((b) => b.classList.toggle('active', b.dataset.room === room));
  const sub = (roomSub = client.subscribe(roomTopic(room)));
  // First join, or back after the history stopped reaching us: (re)load it; ids dedupe.
  sub.on('subscribed', (r) => {
    if (sub !== roomSub) return;
    if (!r.resumed || !r.recovered) void loadHistory(room);
    renderPeople();
  });
  sub.on('message', (data) => sub === roomSub && upsert(data as ChatMessage, 'received'));
  sub.on('join', () => sub === roomSub && renderPeople());
  sub.on('leave', () => sub === roomSub && renderPeople());
  const tsub = (typingSub = client.subscribe(typingTopic(room)));
  tsub.on('message', (data) => {
    const t = data as { name: string; sessionId: string };
    if (tsub !== typingSub) return;
    typists.set(t.sessionId, { name: t.name, until: Date.now() + 3500 });
    renderTyping();
  });
  for (const [id, o] of outbox) if (o.room === room) upsert({ id, text: o.text, name: me, at: Date.now() }, 'pending');
}

for (const r of ROOMS) {
  roomList.append(h('button', { class: 'chat-room', type: 'button', 'data-room': r, onclick: () => r !== room && join(r) }, `# ${r}`));
}
join(room);
input.focus();
