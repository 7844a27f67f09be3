import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how the command was called: printed on one line, exit status 2. */
export class UsageError extends Error {}

export interface ParsedFlags {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Parses flags strictly: an unknown or malformed flag is a usage error. */
export function parseFlags(args: string[], options: NonNullable<ParseArgsConfig['options']>): ParsedFlags {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: values as ParsedFlags['values'], positionals };
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!.split('. ')[0]!);
  }
}
