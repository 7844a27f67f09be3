// Where bufferutil's unmask beats the JavaScript loop (src/protocol/native-mask.ts, NATIVE_MIN):
// ns per call for each size, in place (unmaskBuffer) and copied into a reassembly buffer
// (unmaskCopy), on both paths. Run after a build: node scripts/mask-crossover.mjs
// (bufferutil must be installed; it is a devDependency).
import { createRequire } from 'node:module';
import { unmaskPacked } from '../dist/src/protocol/mask.js';

const bufferutil = createRequire(import.meta.url)('bufferutil');
const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
const mask = 0x78563412;

function nsPerCall(size, fn) {
  const iters = Math.max(2000, Math.floor(5e7 / (size + 100)));
  for (let i = 0; i < iters / 4; i++) fn();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t) / iters);
  }
  return Math.round(best);
}

const rows = [];
for (const size of [64, 128, 256, 512, 1024, 2048, 4096, 16384, 65536]) {
  const src = Buffer.alloc(size + 16, 7);
  const dst = Buffer.alloc(size + 16);
  rows.push({
    bytes: size,
    'in place, js': nsPerCall(size, () => unmaskPacked(src, 1, 1 + size, mask, 0)),
    'in place, bufferutil': nsPerCall(size, () => bufferutil.unmask(src.subarray(1, 1 + size), key)),
    'copy, js': nsPerCall(size, () => {
      src.copy(dst, 0, 1, 1 + size);
      unmaskPacked(dst, 0, size, mask, 0);
    }),
    'copy, bufferutil': nsPerCall(size, () => bufferutil.mask(src.subarray(1, 1 + size), key, dst, 0, size)),
  });
}
console.table(rows);
