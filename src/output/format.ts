/** The output formats (`-o`), and which a command takes. */
import { UsageError } from '../registry/errors.js';

/**
 * Every format some command prints, each command taking those that fit it (parseOutput);
 * shell completion offers them after -o. `wide`: a table with every cell whole, plus lease and revisions.
 */
export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'ndjson', 'addr'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Checks `-o` against the formats the command supports. */
export function parseOutput(text: string | undefined, allowed: readonly OutputFormat[]): OutputFormat {
  const format = (text ?? 'table') as OutputFormat;
  if (!allowed.includes(format)) {
    throw new UsageError(`invalid output format ${JSON.stringify(text)} for this command`, `use one of: ${allowed.join(', ')}`);
  }
  return format;
}
