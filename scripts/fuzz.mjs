// `npm run fuzz -- --minutes N [--target NAME[,NAME]] [--seed S]`: the long fuzz run
// (`--write-seeds` rewrites the hand-made seeds of the corpus, see test/fuzz/seeds.ts). Each
// target of test/fuzz/targets.ts gets its share of the time, in rounds; the inputs are
// fast-check's (structured, mutated corpus entries, noise), as in `npm test` but for longer
// and with a new seed each round. The run happens in a worker thread that a watchdog here
// ends when one input takes more than --hang-seconds (default 20): a hang is a failure too.
// A failing input (shrunk) or the hanging one is saved to test/fuzz/corpus/<target>/crash-*,
// which `npm test` then replays on every run. Exit status 1 when anything failed.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { existsSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const targetsModule = new URL('dist/test/fuzz/targets.js', root);
const INPUT_MAX = 4 * 1024 * 1024;

if (isMainThread) await main();
else await fuzzInWorker();

async function main() {
  const argv = process.argv.slice(2);
  const arg = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
  const minutes = Number(arg('--minutes', '1'));
  const seed = Number(arg('--seed', String(Date.now() % 2 ** 31)));
  const hangSeconds = Number(arg('--hang-seconds', '20'));
  const only = arg('--target', null)?.split(',') ?? null;
  if (argv.includes('--write-seeds')) {
    const { writeSeeds } = await import(new URL('dist/test/fuzz/seeds.js', root).href);
    console.log(`fuzz: ${writeSeeds()} seeds written to test/fuzz/corpus/`);
    return;
  }
  if (!(minutes > 0) || !Number.isInteger(seed) || !(hangSeconds > 0)) {
    console.error('usage: npm run fuzz -- [--minutes N] [--target NAME[,NAME]] [--seed S] [--hang-seconds N]');
    process.exit(2);
  }
  if (!existsSync(targetsModule)) throw new Error('build first (npm run fuzz builds with tsc)');
  const { targets } = await import(targetsModule.href);
  const names = targets.map((t) => t.name).filter((n) => only === null || only.includes(n));
  if (names.length === 0) throw new Error(`no target named ${only}; targets: ${targets.map((t) => t.name).join(', ')}`);

  console.log(`fuzz: ${names.length} targets for ${minutes} min, seed ${seed}`);
  const deadline = Date.now() + minutes * 60_000;
  // Rounds of ~20 s per target, so that a short run still visits every target.
  const roundMs = Math.max(2000, Math.min(20_000, Math.floor((minutes * 60_000) / names.length)));
  const totals = new Map(names.map((n) => [n, 0]));
  let failures = 0;
  let round = 0;
  while (Date.now() < deadline) {
    for (const name of names) {
      const ms = Math.min(roundMs, deadline - Date.now());
      if (ms <= 0) break;
      const result = await runRound(name, seed + round, ms, hangSeconds);
      totals.set(name, totals.get(name) + result.runs);
      if (result.failure) {
        failures++;
        console.log(`FAIL ${name} (seed ${seed + round}): ${result.failure}\n  saved: ${result.saved}`);
      }
    }
    round++;
  }
  let all = 0;
  for (const [name, n] of totals) {
    all += n;
    console.log(`  ${name.padEnd(20)} ${String(n).padStart(10)} inputs`);
  }
  console.log(`fuzz: ${all} inputs, ${failures} failure(s)`);
  process.exit(failures === 0 ? 0 : 1);
}

/** One target for `ms` in a fresh worker; the watchdog ends it if an input hangs. */
function runRound(target, seed, ms, hangSeconds) {
  return new Promise((resolve) => {
    // The worker writes each input here before running it (length first), so that the
    // input of a hang is known without the worker's help.
    const shared = new SharedArrayBuffer(8 + INPUT_MAX);
    const worker = new Worker(new URL(import.meta.url), { workerData: { target, seed, ms, shared } });
    const beat = new Int32Array(shared, 0, 2);
    let lastCount = -1;
    let lastChange = Date.now();
    let settled = false;
    const finish = (r) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      resolve(r);
    };
    const watchdog = setInterval(async () => {
      const count = Atomics.load(beat, 0);
      if (count !== lastCount) {
        lastCount = count;
        lastChange = Date.now();
        return;
      }
      if (Date.now() - lastChange < hangSeconds * 1000) return;
      const length = Atomics.load(beat, 1);
      const input = new Uint8Array(shared, 8, Math.min(length, INPUT_MAX)).slice();
      await worker.terminate();
      const { saveToCorpus } = await import(new URL('dist/test/fuzz/corpus.js', root).href);
      finish({ runs: count, failure: `an input ran for more than ${hangSeconds} s`, saved: saveToCorpus(target, input, 'crash') });
    }, 1000);
    worker.on('message', (m) => finish(m));
    worker.on('error', (err) => finish({ runs: Atomics.load(beat, 0), failure: `worker died: ${err?.stack ?? err}`, saved: '(nothing)' }));
    worker.on('exit', (code) => finish({ runs: Atomics.load(beat, 0), failure: code === 0 ? null : `worker exited with ${code}`, saved: '(nothing)' }));
  });
}

async function fuzzInWorker() {
  const { target: name, seed, ms, shared } = workerData;
  const { default: fc } = await import('fast-check');
  const { targets, closeTargets } = await import(targetsModule.href);
  const { corpusEntries, saveToCorpus } = await import(new URL('dist/test/fuzz/corpus.js', root).href);
  const { mutation } = await import(new URL('dist/test/fuzz/fuzz-input.js', root).href);
  const target = targets.find((t) => t.name === name);
  const beat = new Int32Array(shared, 0, 2);
  const slot = new Uint8Array(shared, 8);
  const corpus = corpusEntries(name).map((c) => c.bytes);
  const inputs = fc.oneof(
    { weight: 3, arbitrary: target.generate() },
    { weight: 2, arbitrary: mutation(corpus) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4096 }) },
  );
  const details = await fc.check(
    fc.asyncProperty(inputs, async (bytes) => {
      Atomics.store(beat, 1, bytes.length);
      slot.set(bytes.subarray(0, INPUT_MAX));
      Atomics.add(beat, 0, 1);
      await target.run(bytes);
    }),
    { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: ms, markInterruptAsFailure: false },
  );
  await closeTargets();
  const runs = Atomics.load(beat, 0);
  if (!details.failed) {
    parentPort.postMessage({ runs, failure: null });
    return;
  }
  const [input] = details.counterexample;
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  parentPort.postMessage({ runs, failure: error.split('\n')[0], saved: saveToCorpus(name, input, 'crash') });
}
