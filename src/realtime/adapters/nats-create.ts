// Types only: `nats` is an optional peer dependency, loaded by the adapter when it connects.
import type { JetStreamClient, KV, KvOptions, StreamInfo } from 'nats';

/**
 * Creating a JetStream stream (a topic stream or a key-value bucket) when several nodes do
 * it at the same moment. nats-server 2.9 checks "a stream of that name exists" and "its
 * subjects overlap another stream" apart from registering the new one: two creates of the
 * same stream can both pass the first check, and the later one then fails with "subjects
 * overlap with an existing stream" (10065) instead of returning the stream the other made.
 * A create that fails so, or with "already in use" (10058), looks the stream up and uses it;
 * when it is not there (not registered yet, or deleted meanwhile by a sweep) it tries again,
 * a bounded number of times.
 */

/** Attempts before the error is given to the caller. */
export const CREATE_ATTEMPTS = 5;

/** True for the errors a create gets when another create of the same stream won the race. */
export function isCreateRace(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number } } | null;
  const code = e?.api_error?.err_code;
  return code === 10065 || code === 10058 || /subjects overlap|already in use/i.test(String((err as Error)?.message ?? err));
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `create`; after a lost race, returns what `lookup` finds, or runs `create` again
 * (short growing pauses) while `lookup` finds nothing. Other errors are thrown at once.
 */
export async function createOrUse<T>(create: () => Promise<T>, lookup: () => Promise<T | null>, attempts = CREATE_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await create();
    } catch (err) {
      if (!isCreateRace(err)) throw err;
      const found = await lookup();
      if (found !== null) return found;
      if (attempt >= attempts) throw err;
      await pause(10 * attempt);
    }
  }
}

/**
 * A key-value bucket, created when missing. nats' `views.kv()` reads the stream's info and
 * creates it when not found, which is the race above; after a lost race the next attempt
 * reads the info again, finds the stream the winner made and binds to it.
 */
export function openBucket(js: JetStreamClient, name: string, options: Partial<KvOptions>): Promise<KV> {
  return createOrUse(() => js.views.kv(name, options), async () => null);
}

/** A topic stream's info when it exists and stores `subjects`, null when it does not exist. */
export function compatible(info: StreamInfo | null, name: string, subjects: string[]): StreamInfo | null {
  if (info === null) return null;
  const have = info.config.subjects ?? [];
  if (have.length !== subjects.length || subjects.some((s) => !have.includes(s))) {
    throw new Error(`nats adapter: stream ${name} exists with subjects ${JSON.stringify(have)}, not ${JSON.stringify(subjects)} (a topic whose mode changed while its stream lives?)`);
  }
  return info;
}

/**
 * A write to a key-value bucket right after such a race can find no stream listening on its
 * subject for a moment (seen with nats-server 2.9 under load): it fails with 503 "no
 * responders", and the same write succeeds a few ms later. Tries again, a bounded number of
 * times, on that error only.
 */
export async function whenListening<T>(write: () => Promise<T>, attempts = CREATE_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (attempt >= attempts || !isNoResponders(err)) throw err;
      await pause(10 * attempt);
    }
  }
}

function isNoResponders(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '503';
}
