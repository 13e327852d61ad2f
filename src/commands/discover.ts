/** `svcreg discover <service>`: the instances of one service, optionally waiting for them. */
import { parseDuration, parseInteger, parseMeta, parseTags } from './options.js';
import { printerFor } from '../output/printers.js';
import { startSpinner } from '../output/spinner.js';
import { connectionStatusMessage, throttledMessages, warnMalformed } from '../output/io.js';
import type { WatchStatus, DiscoverListing } from '../index.js';
import { NotFoundError, UsageError, validateSegment, describeMatches, nothingMatches } from '../index.js';
import { constants } from 'node:os';
import type { CommandContext, Signal } from './context.js';
import { liveView } from './live-view.js';

export interface DiscoverOptions {
  tag?: string[];
  meta?: string[];
  wait?: boolean;
  min?: string;
  waitTimeout?: string;
  pick?: string;
  all?: boolean;
  watch?: boolean;
}

export async function discover(ctx: CommandContext, service: string, options: DiscoverOptions): Promise<number> {
  validateSegment('service name', service);
  const filter = { tags: parseTags(options.tag ?? []), meta: parseMeta(options.meta ?? []) };
  if (options.watch) {
    if (options.wait || options.waitTimeout || options.min || options.pick) throw new UsageError('--watch shows every change: it takes no --wait, --wait-timeout, --min or --pick');
    return liveView(ctx, { service, filter, all: options.all });
  }
  const format = ctx.format(['table', 'wide', 'json', 'ndjson', 'yaml', 'template', 'addr']);
  const min = options.min === undefined ? 1 : parseInteger(options.min, '--min', 1);
  const waitTimeoutMs = options.waitTimeout === undefined ? undefined : parseDuration(options.waitTimeout, '--wait-timeout');
  const wait = options.wait || waitTimeoutMs !== undefined;
  if (options.pick !== undefined && options.pick !== 'first' && options.pick !== 'random') {
    throw new UsageError(`invalid --pick ${JSON.stringify(options.pick)}`, 'use --pick first or --pick random');
  }
  const printer = await printerFor(format, ctx.io);

  let listing: DiscoverListing;
  if (wait) {
    const stop = new AbortController();
    let interrupted: Signal | undefined;
    const removeSignal = ctx.onSignal((s) => {
      interrupted ??= s;
      stop.abort();
    });
    const spinner = startSpinner(ctx.io, `waiting for ${min} instance${min === 1 ? '' : 's'} of ${service}`);
    const say = throttledMessages(ctx.io, 5000);
    const onStatus = (s: WatchStatus) => {
      const text = connectionStatusMessage(s);
      if (text) say(text);
    };
    try {
      listing = await ctx.registry.waitFor(service, { filter, all: options.all, min, timeoutMs: waitTimeoutMs, signal: stop.signal, onStatus });
    } finally {
      spinner.stop();
      removeSignal();
    }
    if (interrupted && listing.instances.length < min) return 128 + constants.signals[interrupted];
  } else {
    listing = await ctx.registry.discover(service, filter, { all: options.all, timeToLive: format === 'wide' });
  }
  warnMalformed(ctx.io, listing.malformed, ctx.registry.prefix);
  if (listing.instances.length === 0) {
    // An empty JSON array is an answer; an empty table is noise.
    if (format === 'json' || format === 'yaml' || format === 'template') printer.instances(listing, false);
    throw nothingMatches(service, listing.counts, { filter, all: options.all, prefix: ctx.registry.prefix });
  }
  // Fewer than asked for is a failure: a script must not take part of the set for all of it.
  if (listing.instances.length < min) {
    const n = listing.instances.length;
    const found = describeMatches(listing.counts, filter, options.all);
    throw new NotFoundError(`only ${n} instance${n === 1 ? '' : 's'} of ${service} match${n === 1 ? 'es' : ''}, fewer than --min ${min}: ${found}`, '--wait waits for them');
  }

  let instances = [...listing.instances].sort((a, b) => (a.key < b.key ? -1 : 1));
  if (options.pick) instances = [options.pick === 'first' ? instances[0] : instances[Math.floor(Math.random() * instances.length)]];
  printer.instances({ ...listing, instances }, false);
  return 0;
}
