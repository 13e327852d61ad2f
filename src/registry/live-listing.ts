/**
 * A listing kept current: one read, then the gap-free watch from that read's revision,
 * never polling. What `discover --wait` waits on and what live views (`list --watch`,
 * `discover --watch`) draw.
 */
import type { Connection } from '../etcd/connection.js';
import type { InstanceRecord, MalformedEntry } from './entry.js';
import { classifySnapshot, type InstanceListing } from './listing.js';
import { readPrefix } from './snapshot.js';
import { watchPrefix, type WatchOptions } from './watch.js';

export interface FollowOptions {
  signal?: AbortSignal;
  onStatus?: WatchOptions['onStatus'];
}

/**
 * The entries under `keyPrefix`: the listing read, then the listing again after each
 * change. Changes that arrive while the caller is busy with one listing come as one
 * listing after it, and none comes from the middle of a resync (a listing half before
 * and half after etcd lost its history). Sorted by key. Ends when `signal` aborts.
 */
export async function* followListing(conn: Connection, registryPrefix: string, keyPrefix: string, options: FollowOptions = {}): AsyncGenerator<InstanceListing> {
  const snap = await readPrefix(conn, keyPrefix, { large: keyPrefix === registryPrefix });
  const first = classifySnapshot(registryPrefix, snap);
  const instances = new Map<string, InstanceRecord>(first.instances.map((i) => [i.key, i]));
  const malformed = new Map<string, MalformedEntry>(first.malformed.map((m) => [m.key, m]));
  let revision = snap.revision;
  const listing = (): InstanceListing => ({ revision, instances: sortedByKey(instances), malformed: sortedByKey(malformed) });

  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();
  let changed = false;
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  // The watch is drained as fast as etcd sends, whatever the caller does with each listing.
  const pump = (async () => {
    let resyncing = 0;
    try {
      for await (const event of watchPrefix(conn, registryPrefix, keyPrefix, { initial: snap, signal: stop.signal, onStatus: options.onStatus })) {
        if (event.type === 'RESYNC') {
          resyncing = event.changes;
          continue;
        }
        if (event.resync) resyncing--;
        revision = event.revision;
        instances.delete(event.key);
        malformed.delete(event.key);
        if (event.record) instances.set(event.key, event.record);
        if (event.malformed) malformed.set(event.key, event.malformed);
        if (resyncing <= 0) {
          changed = true;
          wake?.();
        }
      }
    } catch (err) {
      failure = err;
    } finally {
      ended = true;
      wake?.();
    }
  })();

  try {
    yield listing();
    for (;;) {
      if (!changed && !ended) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      // The rest of the response (a transaction's other events) is delivered before the next turn of the event loop.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (failure) throw failure;
      if (changed) {
        changed = false;
        yield listing();
      } else if (ended) return;
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    stop.abort();
    await pump;
  }
}

function sortedByKey<T extends { key: string }>(entries: Map<string, T>): T[] {
  return [...entries.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
