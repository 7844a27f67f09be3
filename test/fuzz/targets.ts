/**
 * Every fuzz target: a name (its corpus folder under test/fuzz/corpus/), a generator of
 * inputs with structure, and `run`, which throws (or rejects) when a property fails.
 * Used by fuzz.test.ts (a short run in `npm test`) and scripts/fuzz.mjs (`npm run fuzz`).
 */
import type fc from 'fast-check';
import { frameTargets } from './frame-targets.js';
import { handshakeTargets } from './handshake-targets.js';
import { closeRealtimeFuzzServer, realtimeTargets } from './realtime-targets.js';

export interface FuzzTarget {
  name: string;
  description: string;
  generate(): fc.Arbitrary<Uint8Array>;
  run(input: Uint8Array): void | Promise<void>;
}

export const targets: FuzzTarget[] = [...frameTargets, ...handshakeTargets, ...realtimeTargets];

/** Releases what targets keep between runs (the realtime server). */
export async function closeTargets(): Promise<void> {
  await closeRealtimeFuzzServer();
}
