/**
 * `svcreg watch [service] -- command args...`: run the command once per event, one at a
 * time, in revision order; the watch is not read further while it runs. Its lifecycle
 * and signals are src/supervise/event-handler.ts's.
 */
import { parseDuration } from './options.js';
import { message } from '../output/io.js';
import { resyncMessage } from '../output/printer.js';
import { EventHandler } from '../supervise/event-handler.js';
import { resolveCommand } from '../supervise/resolve.js';
import { DEFAULT_KILL_TIMEOUT_MS } from '../supervise/supervisor.js';
import type { CommandContext } from './context.js';
import { watchedEvents, type WatchCommandOptions } from './watch.js';

export async function watchHandler(ctx: CommandContext, service: string | undefined, options: WatchCommandOptions, command: string[]): Promise<number> {
  const { count, events } = watchedEvents(ctx, service, options);
  const killTimeoutMs = options.killTimeout === undefined ? DEFAULT_KILL_TIMEOUT_MS : parseDuration(options.killTimeout, '--kill-timeout');
  const timeoutMs = options.handlerTimeout === undefined ? undefined : parseDuration(options.handlerTimeout, '--handler-timeout');
  // A command that cannot run is found before anything is watched.
  resolveCommand(command[0], 'nothing was watched');
  const handler = new EventHandler({ command, killTimeoutMs, timeoutMs, io: ctx.io });
  const removeSignal = ctx.onSignal((signal) => handler.signal(signal));
  let handled = 0;
  try {
    for await (const event of events(handler.stopped)) {
      // The record is news for a person, not a change: the difference events after it run the handler.
      if (event.type === 'RESYNC') {
        message(ctx.io, resyncMessage(event));
        continue;
      }
      await handler.handle(event);
      if (handler.stopped.aborted || (count !== undefined && ++handled >= count)) break;
    }
  } finally {
    removeSignal();
  }
  return handler.exitCode();
}
