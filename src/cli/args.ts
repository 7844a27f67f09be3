import { parseArgs } from 'node:util';

/** A mistake in how the command was called: printed on one line, exit status 2. */
export class UsageError extends Error {}

/** One flag of a command: how it parses, and its line in the help. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** The value's placeholder in the help ("N", "K:V"). */
  value?: string;
  help: string;
}

/** A command's flags by long name. Only --help has a short form (-h). */
export type FlagTable = Record<string, FlagSpec>;

export interface ParsedFlags {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export const HELP_FLAG: FlagSpec = { type: 'boolean', help: 'this help' };

/**
 * Parses flags strictly: an unknown or malformed flag is a usage error, worded by us.
 * A value that starts with "-" is taken as the value of the flag before it when that flag
 * takes one (`--port -1` is then refused for being negative, not for looking like a flag).
 */
export function parseFlags(command: string, args: string[], table: FlagTable): ParsedFlags {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    if (name !== undefined && table[name]?.type === 'string' && i + 1 < args.length && args[i + 1]!.startsWith('-') && args[i + 1] !== '--') {
      joined.push(`${a}=${args[++i]}`);
    } else {
      joined.push(a);
    }
  }
  const options = Object.fromEntries(
    Object.entries(table).map(([name, spec]) => [name, { type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(name === 'help' ? { short: 'h' } : {}) }]),
  );
  try {
    const { values, positionals } = parseArgs({ args: joined, options, allowPositionals: true, strict: true });
    return { values: values as ParsedFlags['values'], positionals };
  } catch (err) {
    throw new UsageError(usageMessage(command, err as Error & { code?: string }));
  }
}

/** Our wording of node:util parseArgs's errors. */
function usageMessage(command: string, err: Error & { code?: string }): string {
  const flag = /'(-[^ ']+)/.exec(err.message)?.[1];
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag) return `unknown flag ${flag} (see tether ${command} --help)`;
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag) {
    return /does not take an argument/.test(err.message) ? `${flag} takes no value` : `${flag} needs a value`;
  }
  return err.message.split('\n')[0]!.split('. ')[0]!.replace(/^./, (c) => c.toLowerCase());
}

/**
 * An integer flag (or environment variable) between min and max: anything else, negative
 * and zero values below min included, is a usage error naming it.
 */
export function integerFlag(name: string, text: string, min: number, max?: number): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || n < min || (max !== undefined && n > max) || !Number.isSafeInteger(n)) {
    throw new UsageError(`${name} must be an integer ${max === undefined ? `of at least ${min}` : `from ${min} to ${max}`}, got "${text}"`);
  }
  return n;
}

/** The flag lines of a help text, aligned. */
export function formatFlags(table: FlagTable, indent = '  '): string {
  const rows = Object.entries(table).map(([name, spec]) => [`${name === 'help' ? '-h, ' : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`, spec.help] as const);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows
    .map(([left, help]) => {
      const [first, ...rest] = help.split('\n');
      return [`${indent}${left.padEnd(width)}${first}`, ...rest.map((l) => `${indent}${' '.repeat(width)}${l}`)].join('\n');
    })
    .join('\n');
}
