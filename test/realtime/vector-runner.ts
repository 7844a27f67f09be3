/**
 * Plays the protocol test vectors of docs/protocol-vectors.json against a server over real
 * WebSockets (the format is described in docs/protocol.md §10).
 */
import assert from 'node:assert/strict';
import { WireClient, type CodecName } from './wire-client.js';

export type Message = unknown;

export type Step = { client?: string } & (
  | { open: { protocols?: string[] } }
  | { send: Message }
  | { sendText: string }
  | { sendBinary: string }
  | { expect: Message }
  | { expectSet: Message[] }
  | { expectClose: number | { code: number; reason?: string } }
  | { close: true }
);

export interface Vector {
  name: string;
  codecs?: CodecName[];
  steps: Step[];
}

export interface Encoding {
  name: string;
  value: Message;
  json: string;
  msgpack: string;
}

export interface VectorFile {
  protocol: string;
  server: string;
  encodings: Encoding[];
  vectors: Vector[];
}

const FINAL_PING = 999_999;
const TYPES = new Set(['string', 'integer', 'number', 'boolean', 'array', 'object', 'null']);

/** The vector notation → a value to encode: `{"$bin": base64}` becomes bytes. */
export function toValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toValue);
  if (typeof v === 'object' && v !== null) {
    const keys = Object.keys(v);
    const b64 = (v as Record<string, unknown>)['$bin'];
    if (keys.length === 1 && typeof b64 === 'string') return new Uint8Array(Buffer.from(b64, 'base64'));
    return Object.fromEntries(keys.map((k) => [k, toValue((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/** A decoded value → the vector notation (bytes as `{"$bin": base64}`, safe bigints as numbers). */
export function toNotation(v: unknown): unknown {
  if (v instanceof Uint8Array) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
  if (Array.isArray(v)) return v.map(toNotation);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toNotation(x)]));
  return v;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** One run of one vector: its placeholder bindings and the `{run}` token. */
class Run {
  readonly bindings = new Map<string, unknown>();
  constructor(readonly token: string) {}

  /** Expected or outgoing value with `{run}` filled in; in outgoing ones, `$name` replaced by its binding. */
  fill(v: unknown, outgoing: boolean): unknown {
    if (typeof v === 'string') {
      const s = v.replaceAll('{run}', this.token);
      if (!outgoing || !s.startsWith('$')) return s;
      if (s.startsWith('$$')) return s.slice(1);
      const name = s.slice(1);
      if (!this.bindings.has(name)) throw new Error(`placeholder ${s} used before it was bound`);
      return this.bindings.get(name);
    }
    if (Array.isArray(v)) return v.map((x) => this.fill(x, outgoing));
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.fill(x, outgoing)]));
    return v;
  }

  /** Whether actual matches expected (binding placeholders into `bindings` as it goes). */
  matches(expected: unknown, actual: unknown, bindings: Map<string, unknown>): boolean {
    if (typeof expected === 'string' && expected.startsWith('$') && !expected.startsWith('$$')) {
      if (expected === '$any') return true;
      const [name, type] = expected.slice(1).split(':') as [string, string | undefined];
      if (type !== undefined) {
        if (!TYPES.has(type)) throw new Error(`unknown placeholder type ${type}`);
        if (typeOf(actual) !== type && !(type === 'number' && typeOf(actual) === 'integer')) return false;
      }
      if (bindings.has(name)) return isDeepStrictEqual(bindings.get(name), actual);
      bindings.set(name, actual);
      return true;
    }
    if (typeof expected === 'string' && expected.startsWith('$$')) return actual === expected.slice(1);
    if (Array.isArray(expected)) {
      return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => this.matches(e, actual[i], bindings));
    }
    if (typeof expected === 'object' && expected !== null) {
      if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return false;
      const ek = Object.keys(expected).sort();
      const ak = Object.keys(actual).sort();
      return isDeepStrictEqual(ek, ak) && ek.every((k) => this.matches((expected as Record<string, unknown>)[k], (actual as Record<string, unknown>)[k], bindings));
    }
    return expected === actual;
  }

  /** Matches one message, keeping the bindings only when it matches. */
  match(expected: unknown, actual: unknown): boolean {
    const trial = new Map(this.bindings);
    if (!this.matches(expected, actual, trial)) return false;
    for (const [k, v] of trial) this.bindings.set(k, v);
    return true;
  }

  /** Matches messages against expectations in any order (backtracking over assignments). */
  matchSet(expected: unknown[], actual: unknown[]): boolean {
    const used = new Array<boolean>(actual.length).fill(false);
    const go = (i: number, bindings: Map<string, unknown>): Map<string, unknown> | null => {
      if (i === expected.length) return bindings;
      for (let j = 0; j < actual.length; j++) {
        if (used[j]) continue;
        const trial = new Map(bindings);
        if (!this.matches(expected[i], actual[j], trial)) continue;
        used[j] = true;
        const done = go(i + 1, trial);
        if (done) return done;
        used[j] = false;
      }
      return null;
    };
    const result = go(0, new Map(this.bindings));
    if (result === null) return false;
    for (const [k, v] of result) this.bindings.set(k, v);
    return true;
  }
}

function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

/** Plays one vector with one codec against the server at url; throws an AssertionError saying which step failed. */
export async function playVector(vector: Vector, codec: CodecName, url: string, token: string): Promise<void> {
  const run = new Run(token);
  const connections = new Map<string, WireClient>();
  const closed = new Set<string>();
  const connection = async (name: string): Promise<WireClient> => {
    let c = connections.get(name);
    if (c === undefined) connections.set(name, (c = await WireClient.open(url, codec)));
    return c;
  };
  try {
    for (const [i, step] of vector.steps.entries()) {
      const name = step.client ?? 'a';
      const where = `${vector.name} (${codec}), step ${i + 1} on ${name}`;
      if ('open' in step) {
        connections.set(name, await WireClient.open(url, codec, step.open.protocols));
        continue;
      }
      const c = await connection(name);
      if ('send' in step) {
        c.send(toValue(run.fill(step.send, true)) as unknown[]);
      } else if ('sendText' in step) {
        c.sendRaw(run.fill(step.sendText, false) as string);
      } else if ('sendBinary' in step) {
        c.sendRaw(new Uint8Array(Buffer.from(step.sendBinary, 'hex')));
      } else if ('expect' in step) {
        const expected = run.fill(step.expect, false);
        const got = toNotation(await c.next(5000).catch((err: Error) => assert.fail(`${where}: ${err.message}`)));
        assert.ok(run.match(expected, got), `${where}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`);
      } else if ('expectSet' in step) {
        const expected = step.expectSet.map((m) => run.fill(m, false));
        const got = (await c.take(expected.length, 5000).catch((err: Error) => assert.fail(`${where}: ${err.message}`))).map(toNotation);
        assert.ok(run.matchSet(expected, got), `${where}: expected in any order ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`);
      } else if ('expectClose' in step) {
        const want = typeof step.expectClose === 'number' ? { code: step.expectClose } : step.expectClose;
        const result = await c.waitClose(5000).catch((err: Error) => assert.fail(`${where}: ${err.message}`));
        assert.deepStrictEqual(c.pending.map(toNotation), [], `${where}: messages before the close`);
        assert.equal(result.code, want.code, `${where}: close code (reason "${result.reason}")`);
        if (want.reason !== undefined) assert.equal(result.reason, want.reason, `${where}: close reason`);
        closed.add(name);
      } else if ('close' in step) {
        c.close();
        await c.waitClose(5000);
        closed.add(name);
      }
    }
    // Nothing more than expected: a Ping on every open connection is answered next.
    for (const [name, c] of connections) {
      if (closed.has(name)) continue;
      c.send([9, FINAL_PING]);
      const next = toNotation(await c.next(5000).catch((err: Error) => assert.fail(`${vector.name} (${codec}), final ping on ${name}: ${err.message}`)));
      assert.deepStrictEqual(next, [10, FINAL_PING], `${vector.name} (${codec}): ${name} got more than the vector expected`);
    }
  } finally {
    for (const c of connections.values()) c.close();
  }
}
