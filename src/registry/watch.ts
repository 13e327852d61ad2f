/**
 * A gap-free event stream over a key prefix. etcd3's own watcher resumes from the
 * wrong revision after a reconnect and dies silently on compaction, so this drives
 * the raw Watch RPC: it remembers the last revision it delivered, resumes from the
 * next one, drops anything already delivered, and after a compaction re-reads the
 * prefix and emits the difference.
 */
import type { Etcd3 } from 'etcd3';
import type { Connection } from './connection.js';
import { classify, type InstanceRecord } from './entry.js';
import { AuthError, UnreachableError, UsageError } from './errors.js';
import type { Instance } from './instance.js';
import { prefixRangeEnd } from './keys.js';
import { readPrefix, type Snapshot } from './snapshot.js';
import { backoffMs, sleep } from './timers.js';
import type { RawKeyValue } from './transport.js';

/** One change to one key. */
export interface ChangeEvent {
  type: 'PUT' | 'DELETE';
  key: string;
  service: string | null;
  id: string | null;
  /** The revision of the change (etcd's mod_revision for a PUT, the deletion's revision for a DELETE). */
  revision: number;
  /** The new value, decoded; null for a DELETE or a malformed value. */
  instance: Instance | null;
  /** The value before the change, decoded; on a DELETE, the instance that left. */
  prev: Instance | null;
  /** Set when the new value is not a valid instance. */
  problem?: string;
  /** Set on events synthesised by a resync after compaction. */
  resync?: true;
  /** For a PUT of a valid instance: the instance as `list` would show it (lease, revisions). */
  record?: InstanceRecord;
}

/** Marks that history was compacted away: the events that follow are the difference. */
export interface ResyncEvent {
  type: 'RESYNC';
  revision: number;
  compact_revision: number;
}

export type WatchEvent = ChangeEvent | ResyncEvent;

/** Connection state changes, for a caller that reports them (throttled by the caller). */
export interface WatchStatus {
  state: 'disconnected' | 'reconnected';
  error?: string;
  retryInMs?: number;
}

export interface WatchOptions {
  /** First revision to deliver; default: changes after now. */
  startRevision?: number;
  /** A read of the same prefix to start from (its revision + 1 is the first delivered). */
  initial?: Snapshot;
  signal?: AbortSignal;
  onStatus?: (status: WatchStatus) => void;
}

type StreamItem = { response: WatchResponse } | { error: Error } | { end: true };
interface WatchResponse {
  created: boolean;
  canceled: boolean;
  compact_revision: string;
  cancel_reason: string;
  events: { type: 'Put' | 'Delete'; kv: RawKeyValue; prev_kv?: RawKeyValue | null }[];
}

function decodeValue(registryPrefix: string, kv: RawKeyValue | null | undefined): Instance | null {
  if (!kv || kv.value.length === 0) return null;
  const entry = classify(registryPrefix, kv);
  return entry.ok ? stripRecord(entry.record) : null;
}

function stripRecord(record: Instance & Record<string, unknown>): Instance {
  const { key: _k, lease: _l, create_revision: _c, mod_revision: _m, ...instance } = record;
  return instance as Instance;
}

function changeEvent(
  registryPrefix: string,
  type: 'PUT' | 'DELETE',
  kv: RawKeyValue,
  prevKv: RawKeyValue | null | undefined,
): ChangeEvent {
  const entry = classify(registryPrefix, kv);
  const where = entry.ok ? entry.record : entry.malformed;
  const event: ChangeEvent = {
    type,
    key: where.key,
    service: entry.ok ? entry.record.service_name : entry.malformed.service,
    id: entry.ok ? entry.record.service_id : entry.malformed.id,
    revision: Number(kv.mod_revision),
    instance: type === 'PUT' && entry.ok ? stripRecord(entry.record) : null,
    prev: decodeValue(registryPrefix, prevKv),
  };
  if (type === 'PUT' && entry.ok) event.record = entry.record;
  if (type === 'PUT' && !entry.ok) event.problem = entry.malformed.problem;
  return event;
}

/**
 * Streams every change under `keyPrefix` exactly once, in revision order, across
 * reconnects; `registryPrefix` is the registry's root, used to parse keys.
 */
export async function* watchPrefix(
  conn: Connection,
  registryPrefix: string,
  keyPrefix: string,
  options: WatchOptions = {},
): AsyncGenerator<WatchEvent> {
  const { signal, onStatus } = options;
  const key = Buffer.from(keyPrefix);
  const rangeEnd = prefixRangeEnd(key);
  // The state as of `next - 1`, kept so a resync after compaction can emit the difference.
  const state = new Map<string, RawKeyValue>();
  let next: number;
  if (options.initial) {
    for (const kv of options.initial.kvs) state.set(kv.key.toString(), kv);
    next = options.initial.revision + 1;
  } else if (options.startRevision !== undefined && options.startRevision <= 1) {
    // Nothing precedes revision 1; still ask etcd once, so an unreachable etcd fails
    // within the timeout here instead of entering the reconnect loop.
    await conn.call('watch', (t, deadline) => t.range({ key, range_end: rangeEnd, count_only: true }, deadline));
    next = 1;
  } else {
    const at = options.startRevision === undefined ? undefined : options.startRevision - 1;
    let snap: Snapshot;
    try {
      snap = await readPrefix(conn, keyPrefix, { revision: at });
    } catch (err) {
      if (/compacted/.test((err as Error).message)) {
        throw new UsageError(`revision ${options.startRevision} has been compacted`, 'watch from a later --rev, or without --rev', { cause: err });
      }
      if (/future revision/.test((err as Error).message)) {
        throw new UsageError(`revision ${options.startRevision} is in the future`, 'watch from a revision etcd has reached, or without --rev', { cause: err });
      }
      throw err;
    }
    for (const kv of snap.kvs) state.set(kv.key.toString(), kv);
    next = snap.revision + 1;
  }

  let failures = 0;
  while (!signal?.aborted) {
    const queue = new AsyncQueue<StreamItem>();
    const onAbort = () => queue.push({ end: true });
    signal?.addEventListener('abort', onAbort, { once: true });
    let endpoint: number | undefined;
    let stream: Awaited<ReturnType<Etcd3['watchClient']['watch']>> | undefined;
    let compacted = 0;
    let failure: Error | undefined;
    // A member that is frozen or blackholed accepts the stream and never answers.
    const notCreated = setTimeout(() => queue.push({ error: new UnreachableError(`no answer from etcd within ${conn.timeoutMs} ms`) }), conn.timeoutMs);
    try {
      const { client, endpoint: current } = await conn.streamClient();
      endpoint = current;
      stream = await client.watchClient.watch();
      stream.on('data', (response: WatchResponse) => queue.push({ response }));
      stream.on('error', (error: Error) => queue.push({ error }));
      stream.on('end', () => queue.push({ end: true }));
      stream.write({
        create_request: { key, range_end: rangeEnd, start_revision: next, prev_kv: true, progress_notify: true },
      });
      for (;;) {
        const item = await queue.shift();
        if ('end' in item) {
          if (!signal?.aborted) failure = new UnreachableError('watch stream ended');
          break;
        }
        if ('error' in item) {
          failure = item.error;
          break;
        }
        const { response } = item;
        if (response.created) {
          clearTimeout(notCreated);
          if (failures > 0) onStatus?.({ state: 'reconnected' });
          failures = 0;
        }
        if (response.canceled) {
          compacted = Number(response.compact_revision);
          if (compacted > 0) break;
          if (/permission denied/i.test(response.cancel_reason)) throw new AuthError(`watch ${keyPrefix}: ${response.cancel_reason}`);
          // Includes an expired auth token: reporting the failure makes the next attempt re-authenticate.
          failure = new Error(`watch canceled by etcd: ${response.cancel_reason || 'no reason given'}`);
          break;
        }
        const first = next;
        for (const ev of response.events ?? []) {
          const revision = Number(ev.kv.mod_revision);
          if (revision < first) continue; // already delivered before a reconnect
          const changed = ev.kv.key.toString();
          const type = ev.type === 'Delete' ? 'DELETE' : 'PUT';
          yield changeEvent(registryPrefix, type, ev.kv, ev.prev_kv ?? state.get(changed));
          if (type === 'DELETE') state.delete(changed);
          else state.set(changed, ev.kv);
          next = Math.max(next, revision + 1);
          if (signal?.aborted) return;
        }
      }
    } catch (err) {
      if (err instanceof AuthError) throw err;
      failure = err as Error;
    } finally {
      clearTimeout(notCreated);
      signal?.removeEventListener('abort', onAbort);
      stream?.cancel();
    }
    if (signal?.aborted) return;
    if (compacted > 0) {
      try {
        next = (yield* resync(conn, registryPrefix, keyPrefix, state, compacted)) + 1;
        continue;
      } catch (err) {
        if (err instanceof AuthError) throw err;
        failure = err as Error; // state and next are unchanged: the next attempt resyncs again
      }
    }
    if (failure && endpoint !== undefined) conn.failed(endpoint, failure);
    const pause = backoffMs(failures++);
    onStatus?.({ state: 'disconnected', error: failure?.message, retryInMs: pause });
    await sleep(pause, signal);
  }
}

/**
 * After a compaction the missed history is gone: read the prefix now, emit the
 * difference from `state` as events marked `resync`, and return the read's revision.
 */
async function* resync(
  conn: Connection,
  registryPrefix: string,
  keyPrefix: string,
  state: Map<string, RawKeyValue>,
  compactRevision: number,
): AsyncGenerator<WatchEvent, number> {
  const snap = await readPrefix(conn, keyPrefix);
  yield { type: 'RESYNC', revision: snap.revision, compact_revision: compactRevision };
  const now = new Map(snap.kvs.map((kv) => [kv.key.toString(), kv]));
  // Changed keys in the order they changed; deletions (whose revision history no
  // longer tells) last, at the read's revision.
  const changed = [...now].filter(([key, kv]) => state.get(key)?.mod_revision !== kv.mod_revision);
  changed.sort(([, a], [, b]) => Number(a.mod_revision) - Number(b.mod_revision));
  for (const [key, kv] of changed) {
    yield { ...changeEvent(registryPrefix, 'PUT', kv, state.get(key)), resync: true };
    state.set(key, kv);
  }
  for (const [key, old] of [...state]) {
    if (now.has(key)) continue;
    const gone = { ...old, value: Buffer.alloc(0), mod_revision: String(snap.revision) };
    yield { ...changeEvent(registryPrefix, 'DELETE', gone, old), resync: true };
    state.delete(key);
  }
  return snap.revision;
}

/** An unbounded queue whose consumer awaits the next item. */
class AsyncQueue<T> {
  private items: T[] = [];
  private waiting: ((item: T) => void) | undefined;

  push(item: T): void {
    const waiter = this.waiting;
    if (waiter) {
      this.waiting = undefined;
      waiter(item);
    } else {
      this.items.push(item);
    }
  }

  shift(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    return new Promise((resolve) => (this.waiting = resolve));
  }
}
