/**
 * `list --watch` and `discover <service> --watch`: the listing kept current on the
 * screen (or one document per change), from the registry's gap-free follow, never by
 * polling, until Ctrl-C or SIGTERM (exit 0, as `watch` does).
 */
import { connectionStatusMessage, throttledMessages } from '../output/io.js';
import { whenWritable } from '../output/drain.js';
import { LiveScreen, type LiveFrame } from '../output/live.js';
import { ServiceCounter, selectInstances, type InstanceFilter, type InstanceListing, type WatchStatus } from '../index.js';
import type { CommandContext } from './context.js';

export interface LiveViewOptions {
  /** Only this service (discover); the whole registry otherwise (list). */
  service?: string;
  /** list: every instance rather than the counts per service. */
  instances?: boolean;
  /** discover: which instances are shown. */
  filter?: InstanceFilter;
  all?: boolean;
}

export async function liveView(ctx: CommandContext, options: LiveViewOptions): Promise<number> {
  const format = ctx.format(['table', 'wide', 'json', 'ndjson', 'yaml', 'template']);
  const screen = new LiveScreen(ctx.io, format, options.service === undefined ? 'list --watch' : `discover ${options.service} --watch`);
  const stop = new AbortController();
  const removeSignal = ctx.onSignal(() => stop.abort());
  const say = throttledMessages(ctx.io, 5000);
  const onStatus = (s: WatchStatus) => {
    const text = connectionStatusMessage(s);
    if (text) say(text);
  };
  try {
    for await (const listing of ctx.registry.follow(options.service, { signal: stop.signal, onStatus })) {
      await screen.show(frameOf(listing, options));
      // A reader that stops reading pauses the view: it skips to the latest listing when it reads again.
      await whenWritable(ctx.io.stdout, stop.signal);
    }
  } finally {
    removeSignal();
  }
  return 0;
}

function frameOf(listing: InstanceListing, options: LiveViewOptions): LiveFrame {
  if (options.service !== undefined) {
    return { instances: { ...listing, ...selectInstances(listing.instances, options.filter, options.all) }, withMalformed: false };
  }
  if (options.instances) return { instances: listing, withMalformed: true };
  return { services: new ServiceCounter().add(listing).listing() };
}
