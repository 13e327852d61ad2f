/** `svcreg list [--instances]`: every service with its instance count, or every instance. */
import { parseOutput } from '../parse.js';
import { entryCount, warnMalformed } from '../output/io.js';
import { printerFor } from '../output/printer.js';
import { PROGRESS_DELAY_MS, startSpinner, stopAfterLastPage } from '../output/spinner.js';
import type { CommandContext } from './context.js';

export interface ListOptions {
  instances?: boolean;
}

export async function list(ctx: CommandContext, options: ListOptions): Promise<number> {
  const format = parseOutput(ctx.output, ['table', 'json', 'ndjson']);
  const printer = await printerFor(format, ctx.io);
  const prefix = ctx.registry.prefix;
  // JSON streamed to the terminal is its own progress; a spinner would tear it.
  const quiet = options.instances && format !== 'table' && ctx.io.stdoutIsTTY;
  const progress = quiet ? undefined : startSpinner(ctx.io, `reading ${prefix}`, PROGRESS_DELAY_MS);
  const onProgress = (read: number) => progress?.update(`reading ${prefix}: ${entryCount(read)}`);
  let malformed;
  if (options.instances) {
    // Streamed: a listing of 100,000 instances is printed page by page, never held whole.
    malformed = await printer.streamInstances(stopAfterLastPage(ctx.registry.listInstancePages({ onProgress }), progress));
  } else {
    const listing = await ctx.registry.list({ onProgress }).finally(() => progress?.stop());
    printer.services(listing);
    malformed = listing.malformed;
  }
  warnMalformed(ctx.io, malformed, prefix);
  return 0;
}
