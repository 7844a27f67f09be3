import { appRoot, connectRealtime, h } from '../shared/page.js';
import './danmaku.css';

const COMMENTS_TOPIC = 'danmaku:live';
const COLOURS = ['#ffffff', '#fde047', '#67e8f9', '#f9a8d4', '#86efac', '#fca5a5'];
const FLOOD = 500;
/** Most comments on the stage at once; the rest wait their turn. */
const MAX_ON_STAGE = 500;

interface Comment { id: string; text: string; color: string; flood?: { id: string; seq: number; n: number } }
interface Flying { c: Comment; bitmap: HTMLCanvasElement; x: number; lane: number; w: number }

const client = connectRealtime();

// ---- layout --------------------------------------------------------------------------
const canvas = h('canvas', { class: 'dm-canvas', 'aria-label': 'Live comments flying across the stage', role: 'img' });
const stage = h('div', { class: 'dm-stage' }, canvas);
const input = h('input', { class: 'input dm-input', placeholder: 'Say something…', maxlength: 60, 'aria-label': 'Comment' });
let colour = COLOURS[0]!;
const swatches = COLOURS.map((c) => h('button', { class: 'dm-swatch', type: 'button', style: `background:${c}`, 'aria-label': `colour ${c}`, 'data-colour': c, onclick: () => pick(c) }));
const floodButton = h('button', { class: 'btn', type: 'button', title: `Send ${FLOOD} comments at once` }, `Flood ×${FLOOD}`);
const form = h('form', { class: 'dm-composer' }, input, h('div', { class: 'dm-swatches' }, ...swatches), h('button', { class: 'btn primary', type: 'submit' }, 'Send'), floodButton);
const stat = (name: string, label: string) => h('div', { class: 'dm-stat', 'data-stat': name }, h('strong', {}, '0'), h('span', { class: 'muted' }, label));
const stats = h('div', { class: 'dm-stats' }, stat('rate', 'comments / s'), stat('received', 'received'), stat('stage', 'on stage'), stat('fps', 'frames / s'));
const floods = h('ul', { class: 'dm-floods muted' });
const log = h('ol', { class: 'dm-log visually-hidden', 'aria-live': 'off' });

appRoot().append(
  h('div', { class: 'dm' }, stage, form, stats, floods, log),
);

function pick(c: string): void {
  colour = c;
  for (const s of swatches) s.classList.toggle('active', s.dataset.colour === c);
}
pick(colour);

// ---- the stage -----------------------------------------------------------------------
const ctx = canvas.getContext('2d')!;
let W = 0, H = 0, dpr = 1, laneH = 30, lanes = 1;
const laneTail: number[] = [];
const flying: Flying[] = [];
const waiting: Comment[] = [];

function resize(): void {
  dpr = Math.min(2, window.devicePixelRatio || 1);
  W = stage.clientWidth;
  H = stage.clientHeight;
  canvas.width = Math.round(W * dpr);
  canvas.height = Math.round(H * dpr);
  laneH = W < 500 ? 24 : 30;
  lanes = Math.max(1, Math.floor((H - 8) / laneH));
}
new ResizeObserver(resize).observe(stage);
resize();

/** A comment is drawn once into a small bitmap; each frame only copies it. */
function bitmap(c: Comment): HTMLCanvasElement {
  const font = `600 ${Math.round((laneH - 8) * dpr)}px system-ui, sans-serif`;
  ctx.font = font;
  const w = Math.ceil(ctx.measureText(c.text).width + 8 * dpr);
  const b = document.createElement('canvas');
  b.width = w;
  b.height = Math.round(laneH * dpr);
  const g = b.getContext('2d')!;
  g.font = font;
  g.textBaseline = 'middle';
  g.lineWidth = 3 * dpr;
  g.strokeStyle = 'rgba(0,0,0,.75)';
  g.strokeText(c.text, 4 * dpr, b.height / 2);
  g.fillStyle = c.color;
  g.fillText(c.text, 4 * dpr, b.height / 2);
  return b;
}

/** Comments started per frame at most: making their bitmaps is the costly part. */
const LAUNCH_PER_FRAME = 24;
/** Space between two comments of a lane, px. */
const GAP = 24;

/**
 * Puts waiting comments into lanes, each behind the last comment of the lane with the most
 * room. Under a flood they line up beyond the right edge (already moving, entering in turn:
 * no overlap) and everything speeds up, so hundreds a second keep flowing.
 */
function launch(): void {
  let started = 0;
  while (waiting.length > 0 && flying.length < MAX_ON_STAGE && started < LAUNCH_PER_FRAME) {
    let best = 0;
    for (let l = 1; l < lanes; l++) if ((laneTail[l] ?? -Infinity) < (laneTail[best] ?? -Infinity)) best = l;
    const tail = laneTail[best] ?? -Infinity;
    if (tail + GAP > W && !crowded()) return;
    const c = waiting.shift()!;
    const b = bitmap(c);
    const w = b.width / dpr;
    const x = Math.max(W, tail + GAP);
    flying.push({ c, bitmap: b, x, lane: best, w });
    laneTail[best] = x + w;
    started++;
  }
}

// A slowly drifting backdrop, so the stage looks like a video playing: drawn small a few
// times a second, stretched (smoothly) to the stage every frame.
const back = document.createElement('canvas');
back.width = 160;
back.height = 90;
const bg = back.getContext('2d')!;
let backAt = -Infinity;
function backdrop(t: number): void {
  if (t - backAt > 100) {
    backAt = t;
    const g = bg.createLinearGradient(0, 0, 160, 90);
    g.addColorStop(0, '#101b35');
    g.addColorStop(1, '#1e1038');
    bg.fillStyle = g;
    bg.fillRect(0, 0, 160, 90);
    for (let i = 0; i < 3; i++) {
      const x = 160 * (0.5 + 0.35 * Math.sin(t / (4000 + i * 1500) + i * 2));
      const y = 90 * (0.5 + 0.3 * Math.cos(t / (5000 + i * 1300) + i));
      const r = 90 * (0.35 + 0.1 * i);
      const rg = bg.createRadialGradient(x, y, 0, x, y, r);
      rg.addColorStop(0, ['rgba(34,211,238,.2)', 'rgba(167,139,250,.18)', 'rgba(244,114,182,.14)'][i]!);
      rg.addColorStop(1, 'rgba(0,0,0,0)');
      bg.fillStyle = rg;
      bg.fillRect(0, 0, 160, 90);
    }
  }
  ctx.drawImage(back, 0, 0, W, H);
}

/** A crowd: comments waiting, or lined up beyond the edge. */
function crowded(): boolean {
  return waiting.length > 40 || flying.length > lanes * 5;
}

/**
 * Every comment moves at the same speed (none catches up with the one ahead in its lane):
 * crossing the stage in 6 s, or 3 s in a crowd, eased from one to the other.
 */
let speed = 0;

let last = performance.now();
let frames = 0, fps = 0, fpsSince = last;
function frame(now: number): void {
  const dt = Math.min(0.1, (now - last) / 1000);
  last = now;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  backdrop(now);
  // Each lane's tail (the right end of its last comment) is found again as comments move.
  laneTail.length = lanes;
  laneTail.fill(-Infinity);
  const target = (W + 300) / (crowded() ? 3 : 6);
  speed += (target - speed) * Math.min(1, dt * 2);
  let kept = 0;
  for (const f of flying) {
    f.x -= speed * dt;
    if (f.x + f.w < 0) continue;
    flying[kept++] = f;
    const tail = f.x + f.w;
    if (f.lane < lanes && tail > (laneTail[f.lane] ?? -Infinity)) laneTail[f.lane] = tail;
    if (f.x < W) ctx.drawImage(f.bitmap, f.x, 4 + (f.lane % lanes) * laneH, f.w, laneH);
  }
  flying.length = kept;
  launch();
  frames++;
  if (now - fpsSince >= 1000) {
    fps = Math.round((frames * 1000) / (now - fpsSince));
    frames = 0;
    fpsSince = now;
  }
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);

// ---- receiving -----------------------------------------------------------------------
let received = 0;
const arrivals: number[] = [];
const floodCounts = new Map<string, { seen: Set<number>; n: number; el: HTMLLIElement }>();

function receive(c: Comment): void {
  received++;
  arrivals.push(performance.now());
  waiting.push(c);
  if (waiting.length > 5000) waiting.splice(0, waiting.length - 5000);
  if (c.flood) {
    let f = floodCounts.get(c.flood.id);
    if (f === undefined) {
      f = { seen: new Set(), n: c.flood.n, el: h('li', { 'data-flood': c.flood.id }) };
      floodCounts.set(c.flood.id, f);
      floods.prepend(f.el);
    }
    f.seen.add(c.flood.seq);
    f.el.dataset.received = String(f.seen.size);
    f.el.textContent = `Flood ${c.flood.id}: ${f.seen.size} / ${f.n} received`;
  }
  if (!c.flood || c.flood.seq === c.flood.n) {
    log.prepend(h('li', {}, c.text));
    while (log.childElementCount > 20) log.lastElementChild!.remove();
  }
}

const sub = client.subscribe(COMMENTS_TOPIC);
sub.on('message', (data) => receive(data as Comment));

function show(name: string, value: number): void {
  const el = stats.querySelector(`[data-stat="${name}"]`) as HTMLElement;
  el.dataset.value = String(value);
  el.firstElementChild!.textContent = String(value);
}
setInterval(() => {
  const now = performance.now();
  while (arrivals.length > 0 && arrivals[0]! < now - 1000) arrivals.shift();
  show('rate', arrivals.length);
  show('received', received);
  show('stage', flying.length);
  show('fps', fps);
}, 250);

/** For the tests: what is on the stage now. */
(window as unknown as { danmaku: unknown }).danmaku = {
  onStage: () => flying.map((f) => ({ text: f.c.text, x: Math.round(f.x), lane: f.lane })),
  waiting: () => waiting.length,
};

// ---- sending -------------------------------------------------------------------------
function randomId(): string {
  return Math.random().toString(36).slice(2, 10);
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = input.value.trim();
  if (text === '') return;
  input.value = '';
  client.publish(COMMENTS_TOPIC, { id: randomId(), text, color: colour }).catch(() => {});
});

const FLOOD_WORDS = ['wave', 'flood!', 'so many', 'smooth', 'still smooth?', 'hundreds', 'whoosh', 'again', 'Tether', 'go go go'];
floodButton.addEventListener('click', async () => {
  floodButton.disabled = true;
  const id = randomId();
  try {
    await Promise.all(Array.from({ length: FLOOD }, (_, i) => client.publish(COMMENTS_TOPIC, {
      id: `${id}-${i + 1}`,
      text: `${FLOOD_WORDS[i % FLOOD_WORDS.length]} #${i + 1}`,
      color: COLOURS[i % COLOURS.length],
      flood: { id, seq: i + 1, n: FLOOD },
    })));
  } catch {
    // Some were refused (the connection dropped): the flood's counter shows how many arrived.
  } finally {
    floodButton.disabled = false;
  }
});
