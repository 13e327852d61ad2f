/** `svcreg list [--instances]`: every service with its instance count, or every instance. */
import { pacedBy } from '../output/drain.js';
import { entryCount, warnMalformed } from '../output/io.js';
import { printerFor } from '../output/printers.js';
import { PROGRESS_DELAY_MS, startSpinner, stopAfterLastPage } from '../output/spinner.js';
import type { MalformedEntry } from '../index.js';
import type { CommandContext } from './context.js';
import { abortable, interruptOn, untilAborted } from './interrupt.js';
import { liveView } from './live-view.js';

export interface ListOptions {
  instances?: boolean;
  watch?: boolean;
}

export async function list(ctx: CommandContext, options: ListOptions): Promise<number> {
  if (options.watch) return liveView(ctx, { instances: options.instances });
  const format = ctx.format(['table', 'wide', 'json', 'ndjson', 'yaml', 'template']);
  const printer = await printerFor(format, ctx.io);
  const prefix = ctx.registry.prefix;
  // Instances streamed to the terminal are their own progress; a spinner would tear them.
  const quiet = options.instances && ctx.io.stdoutIsTTY;
  const progress = quiet ? undefined : startSpinner(ctx.io, `reading ${prefix}`, PROGRESS_DELAY_MS);
  const onProgress = (read: number) => progress?.update(`reading ${prefix}: ${entryCount(read)}`);
  const interrupt = interruptOn(ctx);
  let malformed: MalformedEntry[];
  try {
    if (options.instances) {
      // Streamed: a listing of 100,000 instances is printed page by page, never held whole.
      const pages = stopAfterLastPage(ctx.registry.listInstancePages({ onProgress, timeToLive: format === 'wide' }), progress);
      const paced = pacedBy(ctx.io.stdout, pages, interrupt.signal);
      malformed = await printer.streamInstances(untilAborted(paced, interrupt.signal));
    } else {
      const listing = await abortable(ctx.registry.list({ onProgress }), interrupt.signal);
      progress?.stop();
      printer.services(listing);
      malformed = listing.malformed;
    }
  } catch (err) {
    const code = interrupt.code();
    if (code === undefined) throw err;
    return code;
  } finally {
    progress?.stop();
    interrupt.remove();
  }
  warnMalformed(ctx.io, malformed, prefix);
  return 0;
}
