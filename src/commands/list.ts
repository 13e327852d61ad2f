/** `svcreg list [--instances]`: every service with its instance count, or every instance. */
import { parseOutput } from '../parse.js';
import { warnMalformed } from '../output/io.js';
import { printerFor } from '../output/printer.js';
import type { CommandContext } from './context.js';

export interface ListOptions {
  instances?: boolean;
}

export async function list(ctx: CommandContext, options: ListOptions): Promise<number> {
  const printer = await printerFor(parseOutput(ctx.output, ['table', 'json', 'ndjson']), ctx.io);
  if (options.instances) {
    // Streamed: a listing of 100,000 instances is printed page by page, never held whole.
    const malformed = await printer.streamInstances(ctx.registry.listInstancePages());
    warnMalformed(ctx.io, malformed, ctx.registry.prefix);
  } else {
    const listing = await ctx.registry.list();
    printer.services(listing);
    warnMalformed(ctx.io, listing.malformed, ctx.registry.prefix);
  }
  return 0;
}
