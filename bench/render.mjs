// Renders docs/benchmarks.md and docs/benchmarks.svg from the record of the last full run
// (docs/benchmarks.json) and the hand-written analysis (bench/analysis.md), so that the analysis can be
// updated without measuring again: `node bench/render.mjs`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderReport } from './report.mjs';

const root = new URL('..', import.meta.url).pathname;

export function writeReport(record) {
  const analysisFile = `${root}bench/analysis.md`;
  const analysis = existsSync(analysisFile) ? readFileSync(analysisFile, 'utf8') : null;
  const { markdown, svg } = renderReport(record.results, record.machine, { reps: record.reps, seconds: record.seconds, quick: record.quick }, record.http2 ?? null, record.scale ?? null, analysis);
  writeFileSync(`${root}docs/benchmarks.md`, markdown);
  writeFileSync(`${root}docs/benchmarks.svg`, svg);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeReport(JSON.parse(readFileSync(`${root}docs/benchmarks.json`, 'utf8')));
  console.log('rendered docs/benchmarks.md and docs/benchmarks.svg from docs/benchmarks.json');
}
