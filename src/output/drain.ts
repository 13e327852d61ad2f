/**
 * Backpressure from stdout: a stream command waits here when the reader is slower
 * than etcd, so output queues in the pipe and not in memory (the etcd stream pauses
 * behind it).
 */
import type { Writable } from 'node:stream';

/**
 * Undefined when `stream` takes more output now; otherwise a promise that resolves once
 * it drains, closes or fails, or `signal` aborts (Ctrl-C must not wait for a reader).
 */
export function whenWritable(stream: NodeJS.WritableStream, signal?: AbortSignal): Promise<void> | undefined {
  const out = stream as Writable;
  if (!out.writableNeedDrain || out.destroyed) return undefined;
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done).off('close', done).off('error', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    out.on('drain', done).on('close', done).on('error', done);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * `items`, the next asked for only once `stream` has taken what the last one wrote:
 * a listing read faster than its reader reads waits for it instead of filling memory.
 */
export async function* pacedBy<T>(stream: NodeJS.WritableStream, items: AsyncIterable<T>, signal?: AbortSignal): AsyncGenerator<T> {
  for await (const item of items) {
    yield item;
    await whenWritable(stream, signal);
    if (signal?.aborted) return;
  }
}
