/**
 * Finds the TypeScript code blocks of the README and docs/*.md, with what each one assumes.
 *
 * Every ```ts (or ```typescript) block is a snippet that must type-check under strict. A
 * block may be preceded, on the lines right above its fence, by an HTML comment (invisible
 * once rendered) that says what it assumes and whether it runs:
 *
 *     <!-- snippet: run ports=8080,3000
 *     declare function lookup(token: string | null): Promise<User | undefined>;
 *     --- after ---
 *     await server.close();
 *     -->
 *
 * - the lines before `--- after ---` are TypeScript put before the block (declarations of
 *   what the block takes as given, imports it leaves out); the lines after it come after
 *   the block (cleanup, or checks of what the block did);
 * - `run`: the block (with what comes before and after it) is also run, in a child process
 *   that must exit with status 0 by itself; `ports=` lists the port numbers of the text to
 *   replace with free loopback ports when it runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Snippet {
  /** The markdown file, relative to the repository (README.md, docs/x.md). */
  file: string;
  /** 1-based line of the block's first line of code in the markdown file. */
  line: number;
  code: string;
  before: string;
  after: string;
  run: boolean;
  ports: number[];
}

const FENCE = /^```(ts|typescript)\s*$/;

/** The markdown files whose snippets are checked: README.md and docs/*.md. */
export function markdownFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

export function extractSnippets(file: string, text: string): Snippet[] {
  const lines = text.split('\n');
  const snippets: Snippet[] = [];
  let inOtherFence = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (inOtherFence) {
      if (/^```\s*$/.test(l)) inOtherFence = false;
      continue;
    }
    if (!FENCE.test(l)) {
      if (/^```/.test(l)) inOtherFence = true;
      continue;
    }
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    if (end === lines.length) throw new Error(`${file}:${i + 1}: a \`\`\`ts block that is never closed`);
    const header = annotation(lines, i, file);
    snippets.push({ file, line: start + 1, code: lines.slice(start, end).join('\n'), ...header });
    i = end;
  }
  return snippets;
}

/** The `<!-- snippet ... -->` comment ending on the line above the fence at `fence`, if any. */
function annotation(lines: string[], fence: number, file: string): Pick<Snippet, 'before' | 'after' | 'run' | 'ports'> {
  const none = { before: '', after: '', run: false, ports: [] };
  if (fence === 0 || lines[fence - 1]!.trim() !== '-->') return none;
  let open = fence - 1;
  while (open >= 0 && !lines[open]!.startsWith('<!--')) open--;
  if (open < 0 || !/^<!-- snippet\b/.test(lines[open]!)) return none;
  const flags = lines[open]!.replace(/^<!-- snippet:?/, '').trim().split(/\s+/).filter(Boolean);
  let run = false;
  let ports: number[] = [];
  for (const flag of flags) {
    if (flag === 'run') run = true;
    else if (flag.startsWith('ports=')) ports = flag.slice(6).split(',').map(Number);
    else throw new Error(`${file}:${open + 1}: unknown snippet flag "${flag}" (known: run, ports=N,M)`);
  }
  if (ports.some((p) => !Number.isInteger(p) || p < 1)) throw new Error(`${file}:${open + 1}: ports= takes port numbers`);
  const body = lines.slice(open + 1, fence - 1);
  const split = body.findIndex((l) => l.trim() === '--- after ---');
  return {
    before: (split < 0 ? body : body.slice(0, split)).join('\n'),
    after: split < 0 ? '' : body.slice(split + 1).join('\n'),
    run,
    ports,
  };
}

export function readSnippets(root: string): Snippet[] {
  return markdownFiles(root).flatMap((f) => extractSnippets(f, readFileSync(join(root, f), 'utf8')));
}
