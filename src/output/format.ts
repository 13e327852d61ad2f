/** The output formats (`-o`), and which a command takes. */
import { UsageError } from '../registry/errors.js';

/** `wide`: a table with every cell whole, plus lease and revisions. */
export type OutputFormat = 'table' | 'wide' | 'json' | 'ndjson' | 'addr';

/** Checks `-o` against the formats the command supports. */
export function parseOutput(text: string | undefined, allowed: readonly OutputFormat[]): OutputFormat {
  const format = (text ?? 'table') as OutputFormat;
  if (!allowed.includes(format)) {
    throw new UsageError(`invalid output format ${JSON.stringify(text)} for this command`, `use one of: ${allowed.join(', ')}`);
  }
  return format;
}
