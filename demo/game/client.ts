import { appRoot, connectRealtime, h } from '../shared/page.js';
import { Interpolator, type DrawnPlayer } from './interpolator.js';
import { ARENA_H, ARENA_W, decodeSnapshot, ORB_RADIUS, PLAYER_RADIUS, TICK_MS, type RosterEntry } from './snapshot.js';
import './game.css';

const GAME_TOPIC = 'game:arena';

// ---- layout -----------------------------------------------------------------------

const canvas = h('canvas', { class: 'game-canvas', 'aria-label': 'The arena', tabindex: 0 });
const status = h('p', { class: 'game-status' }, 'Joining the arena…');
const board = h('ol', { class: 'game-board' });
const hud = {
  rtt: h('strong', {}, '–'),
  rate: h('strong', {}, '–'),
  bytes: h('strong', {}, '–'),
  players: h('strong', {}, '0'),
};

appRoot().append(
  h(
    'div',
    { class: 'game' },
    h('section', { class: 'game-stage panel' }, canvas, status),
    h(
      'aside',
      { class: 'game-side' },
      h('div', { class: 'panel' }, h('h2', {}, 'Players'), board),
      h(
        'div',
        { class: 'panel game-hud' },
        h('h2', {}, 'Network'),
        h('dl', {},
          h('dt', {}, 'your round trip'), h('dd', {}, hud.rtt),
          h('dt', {}, 'snapshots / s'), h('dd', {}, hud.rate),
          h('dt', {}, 'snapshot size'), h('dd', {}, hud.bytes),
          h('dt', {}, 'players'), h('dd', {}, hud.players),
        ),
        h('p', { class: 'muted' }, `The server is authoritative: it moves everyone ${1000 / TICK_MS} times a second and sends each tick as a small binary snapshot; your screen interpolates between them.`),
      ),
      h('div', { class: 'panel game-help' }, h('h2', {}, 'How to play'), h('p', {}, 'Collect the glowing orbs. Move with the arrow keys or WASD; on a touch screen, drag anywhere on the arena.')),
    ),
  ),
);

// ---- network ----------------------------------------------------------------------

const client = connectRealtime({ codec: 'msgpack' });
const interpolator = new Interpolator(TICK_MS);
let roster = new Map<number, RosterEntry>();
let myId: number | null = null;
let received = 0;
let rateWindow: number[] = [];

client.handle('game.ping', () => null);
client.onState((c) => {
  if (c.state === 'connected') join();
  else if (c.state === 'disconnected') {
    // Out of the game until the (possibly restarted) server gives us a player again.
    myId = null;
    status.textContent = 'Connection lost: the game resumes when it is back.';
  }
});

function join(): void {
  client.request('game.join').then(
    (reply) => {
      myId = (reply as { id: number }).id;
      status.textContent = '';
    },
    (err: Error) => {
      myId = null;
      status.textContent = err.message;
    },
  );
}

const sub = client.subscribe(GAME_TOPIC);
sub.on('message', (data, meta) => {
  if (meta.key === 'roster') {
    roster = new Map((data as RosterEntry[]).map((r) => [r.id, r]));
    return;
  }
  if (meta.key !== 'snap' || !(data instanceof Uint8Array)) return;
  const snap = decodeSnapshot(data);
  if (snap === null) return;
  const now = performance.now();
  interpolator.push(snap, now);
  received++;
  rateWindow.push(now);
  hud.bytes.textContent = `${data.length} B`;
});

// ---- input: keyboard and a touch stick --------------------------------------------

const keys = new Set<string>();
let touch: { id: number; x0: number; y0: number; x: number; y: number } | null = null;
let sentStick = '0,0';

function stick(): [number, number] {
  if (touch !== null) {
    const dx = touch.x - touch.x0, dy = touch.y - touch.y0;
    const len = Math.hypot(dx, dy);
    if (len < 8) return [0, 0];
    const k = Math.min(len, 60) / 60 / len;
    return [Math.round(dx * k * 100), Math.round(dy * k * 100)];
  }
  const x = (keys.has('right') ? 1 : 0) - (keys.has('left') ? 1 : 0);
  const y = (keys.has('down') ? 1 : 0) - (keys.has('up') ? 1 : 0);
  const n = x !== 0 && y !== 0 ? 71 : 100;
  return [x * n, y * n];
}

function sendStick(): void {
  const s = stick();
  const key = s.join(',');
  if (key === sentStick || client.state !== 'connected') return;
  sentStick = key;
  client.emit('game.input', s);
}

const KEYS: Record<string, string> = {
  ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'up', ArrowDown: 'down',
  KeyA: 'left', KeyD: 'right', KeyW: 'up', KeyS: 'down',
};
addEventListener('keydown', (e) => {
  const k = KEYS[e.code];
  if (k === undefined || (e.target as HTMLElement | null)?.tagName === 'INPUT') return;
  e.preventDefault();
  keys.add(k);
  sendStick();
});
addEventListener('keyup', (e) => {
  const k = KEYS[e.code];
  if (k === undefined) return;
  keys.delete(k);
  sendStick();
});
addEventListener('blur', () => {
  keys.clear();
  sendStick();
});
canvas.addEventListener('pointerdown', (e) => {
  canvas.setPointerCapture(e.pointerId);
  touch = { id: e.pointerId, x0: e.clientX, y0: e.clientY, x: e.clientX, y: e.clientY };
  sendStick();
});
canvas.addEventListener('pointermove', (e) => {
  if (touch === null || e.pointerId !== touch.id) return;
  touch.x = e.clientX;
  touch.y = e.clientY;
  sendStick();
});
for (const type of ['pointerup', 'pointercancel'] as const) {
  canvas.addEventListener(type, (e) => {
    if (touch !== null && e.pointerId === touch.id) touch = null;
    sendStick();
  });
}
// After a reconnect the server forgot the stick: say it again.
client.onState((c) => {
  if (c.state === 'connected') {
    sentStick = '';
    sendStick();
  }
});

// ---- drawing --------------------------------------------------------------------------

const ctx = canvas.getContext('2d')!;
let drawn: DrawnPlayer[] = [];

function resize(): void {
  const ratio = devicePixelRatio || 1;
  const w = canvas.clientWidth;
  canvas.width = Math.round(w * ratio);
  canvas.height = Math.round(((w * ARENA_H) / ARENA_W) * ratio);
}
new ResizeObserver(resize).observe(canvas);
resize();

function frame(): void {
  const now = performance.now();
  const view = interpolator.at(now);
  drawn = view.players;
  const scale = canvas.width / ARENA_W;
  ctx.setTransform(scale, 0, 0, scale, 0, 0);
  ctx.clearRect(0, 0, ARENA_W, ARENA_H);
  drawFloor();
  for (const orb of view.orbs) drawOrb(orb.x, orb.y, now);
  for (const p of drawn) drawPlayer(p, scale);
  if (touch !== null) drawStick();
  requestAnimationFrame(frame);
}

function drawFloor(): void {
  ctx.fillStyle = '#0d1628';
  ctx.fillRect(0, 0, ARENA_W, ARENA_H);
  ctx.strokeStyle = 'rgba(147, 161, 189, .08)';
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (let x = 100; x < ARENA_W; x += 100) {
    ctx.moveTo(x, 0);
    ctx.lineTo(x, ARENA_H);
  }
  for (let y = 100; y < ARENA_H; y += 100) {
    ctx.moveTo(0, y);
    ctx.lineTo(ARENA_W, y);
  }
  ctx.stroke();
}

function drawOrb(x: number, y: number, now: number): void {
  const pulse = 1 + 0.12 * Math.sin(now / 220 + x);
  const glow = ctx.createRadialGradient(x, y, 0, x, y, ORB_RADIUS * 2.6 * pulse);
  glow.addColorStop(0, 'rgba(253, 224, 71, .9)');
  glow.addColorStop(0.35, 'rgba(250, 204, 21, .45)');
  glow.addColorStop(1, 'rgba(250, 204, 21, 0)');
  ctx.fillStyle = glow;
  ctx.beginPath();
  ctx.arc(x, y, ORB_RADIUS * 2.6 * pulse, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = '#fef9c3';
  ctx.beginPath();
  ctx.arc(x, y, ORB_RADIUS * 0.55, 0, Math.PI * 2);
  ctx.fill();
}

/** `scale`: device pixels per arena unit (small on a phone: names keep a readable size, scores go to the board). */
function drawPlayer(p: DrawnPlayer, scale: number): void {
  const who = roster.get(p.id);
  const colour = who?.colour ?? '#93a1bd';
  const mine = p.id === myId;
  ctx.fillStyle = colour;
  ctx.shadowColor = colour;
  ctx.shadowBlur = mine ? 28 : 14;
  ctx.beginPath();
  ctx.arc(p.x, p.y, PLAYER_RADIUS, 0, Math.PI * 2);
  ctx.fill();
  ctx.shadowBlur = 0;
  if (mine) {
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 5;
    ctx.stroke();
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  if (scale / devicePixelRatio >= 0.45) {
    ctx.fillStyle = '#0b1220';
    ctx.font = '600 24px system-ui, sans-serif';
    ctx.fillText(String(p.score), p.x, p.y + 1);
  }
  // The name above, kept inside the arena near its edges.
  const label = mine ? `${who?.name ?? ''} (you)` : (who?.name ?? '');
  const labelSize = Math.max(26, (12 * devicePixelRatio) / scale);
  ctx.font = `500 ${labelSize}px system-ui, sans-serif`;
  const half = ctx.measureText(label).width / 2 + 6;
  const lx = Math.max(half, Math.min(ARENA_W - half, p.x));
  const ly = p.y - PLAYER_RADIUS < labelSize * 2 ? p.y + PLAYER_RADIUS + labelSize * 0.85 : p.y - PLAYER_RADIUS - labelSize * 0.75;
  ctx.fillStyle = '#e6ebf5';
  ctx.fillText(label, lx, ly);
}

function drawStick(): void {
  if (touch === null) return;
  const rect = canvas.getBoundingClientRect();
  const k = ARENA_W / rect.width;
  const x0 = (touch.x0 - rect.left) * k, y0 = (touch.y0 - rect.top) * k;
  const [sx, sy] = stick();
  ctx.strokeStyle = 'rgba(230, 235, 245, .35)';
  ctx.lineWidth = 4;
  ctx.beginPath();
  ctx.arc(x0, y0, 60 * k, 0, Math.PI * 2);
  ctx.stroke();
  ctx.fillStyle = 'rgba(34, 211, 238, .6)';
  ctx.beginPath();
  ctx.arc(x0 + (sx / 100) * 60 * k, y0 + (sy / 100) * 60 * k, 22 * k, 0, Math.PI * 2);
  ctx.fill();
}

requestAnimationFrame(frame);

// ---- side panels, refreshed a few times a second ------------------------------------

setInterval(() => {
  const now = performance.now();
  rateWindow = rateWindow.filter((t) => now - t < 1000);
  hud.rate.textContent = String(rateWindow.length);
  const latest = interpolator.latest();
  const players = latest?.players ?? [];
  hud.players.textContent = String(players.length);
  const mine = players.find((p) => p.id === myId);
  hud.rtt.textContent = mine?.rtt == null ? '–' : `${mine.rtt} ms`;
  board.replaceChildren(
    ...[...players]
      .sort((a, b) => b.score - a.score || a.id - b.id)
      .map((p) => {
        const who = roster.get(p.id);
        return h(
          'li',
          { class: p.id === myId ? 'me' : '', 'data-player': p.id },
          h('span', { class: 'game-dot', style: `background:${who?.colour ?? '#93a1bd'}` }),
          h('span', { class: 'game-name' }, h('span', {}, who?.name ?? `player ${p.id}`), p.id === myId ? h('span', { class: 'game-you' }, 'you') : null),
          h('span', { class: 'game-score' }, String(p.score)),
          h('span', { class: 'game-rtt muted' }, p.rtt === null ? '–' : `${p.rtt} ms`),
        );
      }),
  );
}, 250);

/** For the tests and the curious. */
(globalThis as { tetherGame?: unknown }).tetherGame = {
  me: () => myId,
  /** Players as drawn in the last frame, with their names. */
  players: () => drawn.map((p) => ({ ...p, name: roster.get(p.id)?.name ?? null })),
  snapshots: () => received,
  /** The tick of the latest snapshot (it starts again from 0 when the server restarts). */
  tick: () => interpolator.latest()?.tick ?? null,
};
