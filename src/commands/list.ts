/** `svcreg list [--instances]`: every service with its instance count, or every instance. */
import { parseOutput } from '../parse.js';
import { warn } from '../output/io.js';
import { printerFor } from '../output/printer.js';
import type { MalformedEntry } from '../registry/entry.js';
import type { CommandContext } from './context.js';
import type { Io } from '../output/io.js';

export interface ListOptions {
  instances?: boolean;
}

export async function list(ctx: CommandContext, options: ListOptions): Promise<number> {
  const printer = await printerFor(parseOutput(ctx.output, ['table', 'json', 'ndjson']), ctx.io);
  if (options.instances) {
    const listing = await ctx.registry.listInstances();
    printer.instances(listing, true);
    warnMalformed(ctx.io, listing.malformed, ctx.registry.prefix);
  } else {
    const listing = await ctx.registry.list();
    printer.services(listing);
    warnMalformed(ctx.io, listing.malformed, ctx.registry.prefix);
  }
  return 0;
}

/** One stderr line per malformed entry (a few), then a count and what to do. */
export function warnMalformed(io: Io, malformed: MalformedEntry[], prefix: string): void {
  if (malformed.length === 0) return;
  for (const m of malformed.slice(0, 5)) warn(io, `malformed entry ${m.key}: ${m.problem}`);
  const more = malformed.length > 5 ? ` (${malformed.length - 5} more not shown)` : '';
  warn(io, `${malformed.length} malformed entr${malformed.length === 1 ? 'y' : 'ies'} under ${prefix}${more}; \`svcreg purge --all --malformed\` removes them`);
}
