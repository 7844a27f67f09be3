/**
 * Fuzzing in `npm test`: every input of the corpus is replayed, then each target runs for a
 * short, bounded time on generated inputs (structured, mutated corpus entries, and noise).
 * The long run is `npm run fuzz -- --minutes N`. FUZZ_SEED picks another sequence of inputs.
 */
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { corpusEntries } from './corpus.js';
import { mutation } from './fuzz-input.js';
import { closeTargets, targets } from './targets.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 6455);
/** Time for each target's generated inputs, in ms. */
const BUDGET = Number(process.env['FUZZ_MS'] ?? 700);

after(() => closeTargets());

for (const target of targets) {
  describe(`fuzz ${target.name}: ${target.description}`, () => {
    const corpus = corpusEntries(target.name);

    test(`the ${corpus.length} inputs of the corpus`, async () => {
      for (const { name, bytes } of corpus) {
        try {
          await target.run(bytes);
        } catch (err) {
          throw new Error(`corpus input ${target.name}/${name}: ${(err as Error).message}`, { cause: err });
        }
      }
    });

    test(`generated inputs for ${BUDGET} ms (seed ${SEED})`, async (t) => {
      const inputs = fc.oneof(
        { weight: 3, arbitrary: target.generate() },
        { weight: 2, arbitrary: mutation(corpus.map((c) => c.bytes)) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) },
      );
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(inputs, async (bytes) => {
          runs++;
          await target.run(bytes);
        }),
        { seed: SEED, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: BUDGET, markInterruptAsFailure: false },
      );
      t.diagnostic(`${runs} inputs`);
      // A floor that a loaded machine still reaches (the realtime target opens a connection per input).
      if (runs < 3) throw new Error(`only ${runs} inputs ran in ${BUDGET} ms`);
    });
  });
}
