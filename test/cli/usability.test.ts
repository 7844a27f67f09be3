/**
 * The command as a user meets it: --version, help that lists every flag, one style for every
 * error (one line, `tether: `, exit status 2 for a wrong command line), no short flags but
 * -h, numbers checked by the command itself; `tether connect` escaping what the server
 * sends; the realtime hub's HTTP side (a page at /, HEAD, the source map).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CONNECT_FLAGS } from '../../src/cli/connect.js';
import { DEMO_FLAGS } from '../../src/cli/demo.js';
import { SERVE_FLAGS } from '../../src/cli/serve.js';
import { WebSocketServer } from '../../src/index.js';
import { within } from '../helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', new URL('../', import.meta.url)));
const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function run(args: string[], env: Record<string, string> = {}, input?: string) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env }, input });
}

test('--version prints the package version', () => {
  const r = run(['--version']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, `${VERSION}\n`);
});

test('the top-level help lists every flag of every command, and each command help its own', () => {
  const main = run(['--help']).stdout;
  assert.match(main, /--version/);
  for (const [command, flags] of [['serve', SERVE_FLAGS], ['connect', CONNECT_FLAGS], ['demo', DEMO_FLAGS]] as const) {
    const own = run([command, '--help']);
    assert.equal(own.status, 0);
    for (const name of Object.keys(flags)) {
      const flag = new RegExp(`--${name}\\b`);
      assert.match(main, flag, `tether --help lists --${name} of ${command}`);
      assert.match(own.stdout, flag, `tether ${command} --help lists --${name}`);
    }
  }
  // The only short flag is -h, and the help says so.
  assert.match(main, /-h, --help/);
  assert.doesNotMatch(main, /(^|\s)-[a-gi-z]\b/i);
});

test('every usage error: one line, "tether: " and a lower-case message, exit status 2', () => {
  const cases: Array<[string[], RegExp, Record<string, string>?]> = [
    [['serve', '--echo', '--bogus'], /^tether: unknown flag --bogus \(see tether serve --help\)$/],
    [['serve', '--echo', '-p', '80'], /^tether: unknown flag -p /],
    [['connect', '-H', 'a:b', 'ws://x/'], /^tether: unknown flag -H /],
    [['connect', '-P', 'chat', 'ws://x/'], /^tether: unknown flag -P /],
    [['serve', '--echo', '--port'], /^tether: --port needs a value$/],
    [['serve', '--echo=yes'], /^tether: --echo takes no value$/],
    [['serve', '--echo', '--port', '-1'], /^tether: --port must be an integer from 0 to 65535, got "-1"$/],
    [['serve', '--echo', '--port', '65536'], /^tether: --port must be an integer from 0 to 65535, got "65536"$/],
    [['serve', '--echo', '--port', 'abc'], /^tether: --port must be an integer/],
    [['serve', '--echo', '--max-payload', '0'], /^tether: --max-payload must be an integer of at least 1, got "0"$/],
    [['serve', '--echo', '--max-payload', '-5'], /^tether: --max-payload must be an integer of at least 1, got "-5"$/],
    [['serve', '--echo', '--max-payload=1.5'], /^tether: --max-payload must be an integer/],
    [['demo', '--port', '-1'], /^tether: --port must be an integer from 0 to 65535, got "-1"$/],
    [['demo'], /^tether: the PORT environment variable must be an integer from 0 to 65535, got "-3"$/, { PORT: '-3' }],
    [['serve'], /^tether: serve needs a behaviour/],
    [['connect'], /^tether: connect needs exactly one URL/],
    [['connect', 'not a url'], /^tether: /],
    [['nope'], /^tether: unknown command "nope"/],
    [['--nope'], /^tether: unknown flag --nope/],
  ];
  for (const [args, message, env] of cases) {
    const r = run(args, env);
    const what = `tether ${args.join(' ')}`;
    assert.equal(r.status, 2, `${what}: status (${r.stderr})`);
    assert.equal(r.stdout, '', `${what}: nothing on stdout`);
    assert.equal(r.stderr.split('\n').length, 2, `${what}: one line (${JSON.stringify(r.stderr)})`);
    assert.match(r.stderr.trimEnd(), message, what);
    assert.match(r.stderr, /^tether: [^A-Z]/, `${what}: lower case after the prefix`);
  }
});

test('tether connect escapes control characters the server sends (messages, close reason) before printing them', async () => {
  const evil = 'red \x1b[31mALERT\x1b[0m bell\x07 cr\rlf\n rtl\u202eevil';
  const server = new WebSocketServer({
    heartbeatInterval: 0,
    open(ws) {
      ws.send(evil);
      ws.close(1000, 'bye\x1b[2J');
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  try {
    const child = spawn(process.execPath, [CLI, 'connect', `ws://127.0.0.1:${port}/`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await within(new Promise<number | null>((r) => child.once('exit', r)), 15_000, 'connect exits');
    assert.equal(code, 0, err);
    assert.equal(out, '< red \\x1b[31mALERT\\x1b[0m bell\\x07 cr\\rlf\\n rtl\\u202eevil\n');
    assert.match(err, /closed: 1000 bye\\x1b\[2J\n/);
    assert.doesNotMatch(out + err, /[\x00-\x09\x0b-\x1f\x7f\u202e]/, 'no raw control character reaches the terminal');
  } finally {
    await server.close();
  }
});

test('the realtime hub (one worker per core by default) answers HEAD, serves the source map and a page at / that says what it is', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [CLI, 'serve', '--realtime', '--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const [url, workers] = await within(
      new Promise<[string, string | undefined]>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on ws:\/\/(127\.0\.0\.1:\d+)\/( with (\d+) workers)?/.exec(out);
          if (m) resolve([`http://${m[1]}`, m[3]]);
        });
        child.once('exit', (c) => reject(new Error(`exited with ${c}: ${out}`)));
      }),
      30_000,
      'hub start',
    );
    // --workers defaults to one per core (one process on a single core).
    assert.equal(workers, availableParallelism() > 1 ? String(availableParallelism()) : undefined);
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    assert.match(html, /Tether realtime hub/);
    assert.match(html, /tether-realtime\.js/);

    const head = await fetch(`${url}/tether-realtime.js`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    const js = await (await fetch(`${url}/tether-realtime.js`)).text();
    assert.equal(Number(head.headers.get('content-length')), Buffer.byteLength(js));
    assert.equal((await head.text()), '', 'HEAD has no body');
    assert.match(js, /\/\/# sourceMappingURL=tether-realtime\.js\.map/);

    const map = await fetch(`${url}/tether-realtime.js.map`);
    assert.equal(map.status, 200);
    const parsed = (await map.json()) as { sources: string[]; sourcesContent: string[] };
    assert.ok(parsed.sources.some((s) => s.endsWith('realtime-client.ts')), parsed.sources.join(', '));
    assert.equal(parsed.sourcesContent.length, parsed.sources.length);

    assert.equal((await fetch(`${url}/`, { method: 'POST', body: 'x' })).status, 405);
    assert.equal((await fetch(`${url}/nothing-here`)).status, 404);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  }
});
