/** `svcreg watch [service]`: stream PUT/DELETE events until Ctrl-C or `--count` events. */
import { parseInteger } from './options.js';
import { connectionStatusMessage, message, throttledMessages } from '../output/io.js';
import { whenWritable } from '../output/drain.js';
import { printerFor } from '../output/printers.js';
import { UsageError, validateSegment, type WatchEvent, type WatchStatus } from '../index.js';
import type { CommandContext } from './context.js';

export interface WatchCommandOptions {
  rev?: string;
  count?: string;
  killTimeout?: string;
  handlerTimeout?: string;
}

/** The watch the flags ask for, started with `signal`, and `--count`: checked before any request. */
export function watchedEvents(ctx: CommandContext, service: string | undefined, options: WatchCommandOptions) {
  if (service !== undefined) validateSegment('service name', service);
  const startRevision = options.rev === undefined ? undefined : parseInteger(options.rev, '--rev', 1);
  const count = options.count === undefined ? undefined : parseInteger(options.count, '--count', 1);
  const say = throttledMessages(ctx.io, 5000);
  const where = service === undefined ? ctx.registry.prefix : `${ctx.registry.prefix}${service}/`;
  const onStatus = (s: WatchStatus) => {
    // Someone who starts a watch and then registers needs to know the watch was live by then.
    if (s.state === 'established' && ctx.io.stderrIsTTY) message(ctx.io, `watching ${where} from revision ${s.revision}`);
    const text = connectionStatusMessage(s);
    if (text) say(`watch: ${text}`);
  };
  return { count, events: (signal: AbortSignal): AsyncIterable<WatchEvent> => ctx.registry.watch(service, { startRevision, signal, onStatus }) };
}

export async function watch(ctx: CommandContext, service: string | undefined, options: WatchCommandOptions): Promise<number> {
  if (options.killTimeout !== undefined || options.handlerTimeout !== undefined) {
    throw new UsageError('--kill-timeout and --handler-timeout need a command', 'put the command to run for each event after --');
  }
  const { count, events } = watchedEvents(ctx, service, options);
  // A stream has no single document: -o json prints one object per line, like ndjson.
  const format = ctx.format(['table', 'json', 'ndjson', 'yaml', 'template']);
  const printer = await printerFor(format === 'json' ? 'ndjson' : format, ctx.io);
  const stop = new AbortController();
  const removeSignal = ctx.onSignal(() => stop.abort());
  let seen = 0;
  try {
    for await (const event of events(stop.signal)) {
      printer.watchEvent(event);
      await whenWritable(ctx.io.stdout, stop.signal);
      if (event.type !== 'RESYNC' && count !== undefined && ++seen >= count) break;
    }
  } finally {
    removeSignal();
  }
  return 0;
}
