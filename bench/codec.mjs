// `node bench/codec.mjs` (after `npm run build`): Tether's MessagePack codec against msgpackr
// (records off: standard MessagePack) and @msgpack/msgpack on a typical publication, in one
// process, interleaved rounds, ops per second of CPU time (steadier than wall time on a shared
// machine); medians of 7 rounds with min–max. Also prints whether each library writes the same
// bytes as Tether (the protocol's shortest forms) and what msgpackr's decoder costs with the
// checks Tether's decoder makes on hostile input run in front of it (a structural scan).
// The peers are the benchmark's own dependencies (bench/package.json): `npm ci` in bench/.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
if (!existsSync(`${root}dist/src/realtime/wire/msgpack.js`)) throw new Error('build first: npm run build');
const peers = createRequire(`${root}bench/package.json`);
let msgpackr, msgpack;
try {
  msgpackr = peers('msgpackr');
  msgpack = peers('@msgpack/msgpack');
} catch {
  throw new Error('install the benchmark peers first: (cd bench && npm ci)');
}
const { encodeMsgpack, decodeMsgpack } = await import(`${root}dist/src/realtime/wire/msgpack.js`);

// [Publication, topic, data, offset, key]: a ticker tick as the ticker demo publishes it.
const publication = [12, 'ticker:AAPL', { px: 187.32, qty: 100, sym: 'AAPL', ts: 1764638000123, side: 'buy' }, 4711, 'AAPL'];

const packr = new msgpackr.Packr({ useRecords: false, encodeUndefinedAsNil: true, skipValues: [undefined] });
const unpackr = new msgpackr.Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'auto', copyBuffers: true });
const mEncoder = new msgpack.Encoder();
const mDecoder = new msgpack.Decoder({ useBigInt64: false });

const ours = encodeMsgpack(publication).slice();
const hex = (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
console.log(`tether            ${hex(ours)}`);
for (const [name, bytes] of [['msgpackr', packr.pack(publication)], ['@msgpack/msgpack', mEncoder.encode(publication)]]) {
  const same = hex(bytes) === hex(ours);
  console.log(`${name.padEnd(17)} ${same ? 'the same bytes' : hex(bytes) + '  (differs)'}`);
}

const cases = {
  'encode tether': () => encodeMsgpack(publication),
  'encode msgpackr': () => packr.pack(publication),
  'encode @msgpack/msgpack': () => mEncoder.encode(publication),
  'decode tether': () => decodeMsgpack(ours),
  'decode msgpackr': () => unpackr.unpack(ours),
  'decode msgpackr + checks': () => {
    scan(ours);
    return unpackr.unpack(ours);
  },
  'decode @msgpack/msgpack': () => mDecoder.decode(ours),
};

/** Ops per CPU second over about `ms` of wall time. */
function run(fn, ms) {
  let n = 0;
  const cpu = process.cpuUsage();
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
  }
  const used = process.cpuUsage(cpu);
  return n / ((used.user + used.system) / 1e6);
}

for (const fn of Object.values(cases)) run(fn, 300); // warm-up
const ROUNDS = 7;
const results = {};
for (let r = 0; r < ROUNDS; r++) for (const [name, fn] of Object.entries(cases)) (results[name] ??= []).push(run(fn, 300));
const fmt = (v) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : `${(v / 1e3).toFixed(0)} k`);
console.log(`\nops per CPU second, median of ${ROUNDS} (min–max), Node ${process.version}`);
for (const [name, v] of Object.entries(results)) {
  v.sort((a, b) => a - b);
  console.log(`${name.padEnd(26)} ${fmt(v[3]).padStart(7)}  (${fmt(v[0])}–${fmt(v[ROUNDS - 1])})`);
}

/**
 * What msgpackr would need in front of it to refuse what Tether's decoder refuses: a walk of
 * the bytes checking declared lengths, nesting (at most 100), ext types and 0xc1, string map
 * keys, valid UTF-8 and trailing bytes, without building values.
 */
function scan(b) {
  const utf8 = scan.utf8 ??= new TextDecoder('utf-8', { fatal: true });
  let pos = 0;
  const end = b.length;
  const need = (n) => {
    if (end - pos < n) throw new Error('truncated');
  };
  const u16 = () => {
    need(2);
    pos += 2;
    return (b[pos - 2] << 8) | b[pos - 1];
  };
  const u32 = () => {
    need(4);
    pos += 4;
    return b[pos - 4] * 0x1000000 + ((b[pos - 3] << 16) | (b[pos - 2] << 8) | b[pos - 1]);
  };
  const str = (n) => {
    need(n);
    for (let i = pos; i < pos + n; i++) {
      if (b[i] >= 0x80) {
        utf8.decode(b.subarray(pos, pos + n));
        break;
      }
    }
    pos += n;
  };
  const lefts = [];
  const maps = [];
  let left = 1;
  let inMap = false;
  for (;;) {
    while (left === 0) {
      if (lefts.length === 0) {
        if (pos !== end) throw new Error('trailing bytes');
        return;
      }
      left = lefts.pop();
      inMap = maps.pop();
    }
    left--;
    need(1);
    const t = b[pos++];
    if (inMap && left % 2 === 1 && !((t >= 0xa0 && t <= 0xbf) || t === 0xd9 || t === 0xda || t === 0xdb)) throw new Error('map key');
    let n = 0;
    let map = false;
    if (t < 0x80 || t >= 0xe0) continue;
    if (t < 0x90) {
      n = (t & 15) * 2;
      map = true;
    } else if (t < 0xa0) n = t & 15;
    else if (t < 0xc0) {
      str(t & 31);
      continue;
    } else {
      switch (t) {
        case 0xc0: case 0xc2: case 0xc3: continue;
        case 0xc4: need(1); n = b[pos++]; need(n); pos += n; continue;
        case 0xc5: n = u16(); need(n); pos += n; continue;
        case 0xc6: n = u32(); need(n); pos += n; continue;
        case 0xcc: case 0xd0: need(1); pos += 1; continue;
        case 0xcd: case 0xd1: need(2); pos += 2; continue;
        case 0xca: case 0xce: case 0xd2: need(4); pos += 4; continue;
        case 0xcb: case 0xcf: case 0xd3: need(8); pos += 8; continue;
        case 0xd9: need(1); str(b[pos++]); continue;
        case 0xda: str(u16()); continue;
        case 0xdb: str(u32()); continue;
        case 0xdc: n = u16(); break;
        case 0xdd: n = u32(); break;
        case 0xde: n = u16() * 2; map = true; break;
        case 0xdf: n = u32() * 2; map = true; break;
        default: throw new Error('ext type or reserved byte');
      }
    }
    if (n > end - pos) throw new Error('declared length');
    if (lefts.length + 1 > 100) throw new Error('nesting');
    if (n > 0) {
      lefts.push(left);
      maps.push(inMap);
      left = n;
      inMap = map;
    }
  }
}
