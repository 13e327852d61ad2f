/**
 * Parsers for command-line values. Each throws a UsageError (exit 2) naming the
 * flag, so bad input is rejected before any request is sent.
 */
import { UsageError } from '../registry/errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration: `500ms`, `2s`, `1m`, `1h`, compounds like `1m30s`, or a bare
 * number of seconds. Must be greater than zero.
 */
export function parseDuration(text: string, flag: string): number {
  const trimmed = text.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    ms = Number(trimmed) * 1000;
  } else if (/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(trimmed)) {
    ms = 0;
    for (const [, n, , unit] of trimmed.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) ms += Number(n) * UNIT_MS[unit];
  } else {
    throw new UsageError(`invalid duration for ${flag}: ${JSON.stringify(text)}`, 'use e.g. 500ms, 5s, 1m30s or 2h');
  }
  ms = Math.round(ms);
  if (ms <= 0) throw new UsageError(`${flag} must be greater than zero`);
  return ms;
}

/** A whole number in [min, max]. */
export function parseInteger(text: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`invalid ${flag}: ${JSON.stringify(text)}`, `use a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}`);
  }
  return n;
}

export function parsePort(text: string): number {
  return parseInteger(text, '--port', 1, 65535);
}

/** `--meta k=v` pairs, later ones winning. */
export function parseMeta(pairs: string[]): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid --meta ${JSON.stringify(pair)}`, 'use --meta key=value');
    meta[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return meta;
}

/** `--tag` values: non-empty. */
export function parseTags(tags: string[]): string[] {
  for (const tag of tags) if (tag.trim() === '') throw new UsageError('--tag may not be empty');
  return tags;
}

/** Comma-separated endpoint list, blanks dropped. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
