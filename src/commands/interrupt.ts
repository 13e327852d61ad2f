/**
 * Ctrl-C and SIGTERM for a command that would otherwise run to the end of a long
 * listing: the first signal stops it at once, mid-request, and it exits 128 + the
 * signal's number, as a shell reports a process the signal killed.
 */
import { constants } from 'node:os';
import type { CommandContext, Signal } from './context.js';

export interface Interrupt {
  /** Aborts on the first signal. */
  signal: AbortSignal;
  /** 128 + the signal's number once one came; undefined before. */
  code(): number | undefined;
  /** Gives the signals back to their default handling. */
  remove(): void;
}

export function interruptOn(ctx: CommandContext): Interrupt {
  const stop = new AbortController();
  let caught: Signal | undefined;
  const remove = ctx.onSignal((s) => {
    caught ??= s;
    stop.abort();
  });
  return { signal: stop.signal, code: () => (caught ? 128 + constants.signals[caught] : undefined), remove };
}

/** `promise`, or a rejection with the signal's reason as soon as `signal` aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** `items` one by one until `signal` aborts; then it throws, without waiting for the item being read. */
export async function* untilAborted<T>(items: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const it = items[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await abortable(it.next(), signal);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Not awaited: a generator finishes a pending read before it returns.
    void it.return?.();
  }
}
