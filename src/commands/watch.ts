/** `svcreg watch [service]`: stream PUT/DELETE events until Ctrl-C or `--count` events. */
import { parseInteger, parseOutput } from '../parse.js';
import { message, throttle } from '../output/io.js';
import { printerFor } from '../output/printer.js';
import type { WatchStatus } from '../registry/watch.js';
import type { CommandContext } from './context.js';

export interface WatchCommandOptions {
  rev?: string;
  count?: string;
}

export async function watch(ctx: CommandContext, service: string | undefined, options: WatchCommandOptions): Promise<number> {
  // A stream has no single document: -o json prints one object per line, like ndjson.
  const format = parseOutput(ctx.output, ['table', 'json', 'ndjson']);
  const startRevision = options.rev === undefined ? undefined : parseInteger(options.rev, '--rev', 1);
  const count = options.count === undefined ? undefined : parseInteger(options.count, '--count', 1);
  const printer = await printerFor(format === 'json' ? 'ndjson' : format, ctx.io);

  const stop = new AbortController();
  const removeSignal = ctx.onSignal(() => stop.abort());
  const onStatus = throttle(5000, (s: WatchStatus, suppressed: number) => {
    const more = suppressed > 0 ? ` (${suppressed} similar messages suppressed)` : '';
    message(
      ctx.io,
      s.state === 'disconnected'
        ? `watch: lost the connection to etcd (${s.error}); retrying in ${s.retryInMs} ms${more}`
        : `watch: reconnected to etcd; no events were missed${more}`,
    );
  });
  let seen = 0;
  try {
    for await (const event of ctx.registry.watch(service, { startRevision, signal: stop.signal, onStatus })) {
      printer.watchEvent(event);
      if (event.type !== 'RESYNC' && count !== undefined && ++seen >= count) break;
    }
  } finally {
    removeSignal();
  }
  return 0;
}
