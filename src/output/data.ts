/**
 * Results as data for scripts, whatever the result: `-o json` (one indented document)
 * and `-o ndjson` (one compact value per line). Every printer of data writes through
 * these, so a data format is added here once.
 */
import { escapeJsonText } from './escape.js';
import type { Io } from './io.js';

export type DataFormat = 'json' | 'ndjson';

/** JSON text that is safe on a terminal: strings are the only place escaped characters can be. */
export function jsonText(value: unknown, indent?: number): string {
  return escapeJsonText(JSON.stringify(value, null, indent));
}

/** One value, as one document: indented for json, one line for ndjson. */
export function writeDocument(io: Io, format: DataFormat, value: unknown): void {
  io.stdout.write(`${jsonText(value, format === 'json' ? 2 : undefined)}\n`);
}

/** A list: one array for json, one line per item for ndjson. */
export function writeItems(io: Io, format: DataFormat, items: readonly unknown[]): void {
  if (format === 'json') writeDocument(io, format, items);
  else io.stdout.write(items.map((item) => `${jsonText(item)}\n`).join(''));
}

/** One value of a stream (an event, a snapshot of a live view): one line, whatever the format. */
export function writeLine(io: Io, value: unknown): void {
  io.stdout.write(`${jsonText(value)}\n`);
}
