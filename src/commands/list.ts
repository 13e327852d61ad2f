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
