/**
 * A gap-free event stream over a key prefix. etcd3's own watcher resumes from the
 * wrong revision after a reconnect and dies silently on compaction, so this drives
 * the raw Watch RPC: it remembers what it delivered (watch-state.ts), resumes from
 * there, drops anything already delivered, and when the history it missed is gone
 * (compacted, or etcd came back with a new data dir) re-reads the prefix and emits
 * the difference. Streams require a leader, so a member cut off from its quorum
 * ends them and the watch moves to another member.
 */
import type { Connection } from '../etcd/connection.js';
import type { Deadline } from '../etcd/deadline.js';
import { classify, type InstanceRecord, type MalformedEntry } from './entry.js';
import { AuthError, CompactedError, FutureRevisionError, UnreachableError, UsageError } from './errors.js';
import type { Instance } from './instance.js';
import { prefixRangeEnd } from './keys.js';
import { readPrefix, type Snapshot } from './snapshot.js';
import type { WatchStream } from '../etcd/grpc.js';
import { watchCanceled } from '../etcd/status-table.js';
import { StreamQueue } from '../etcd/stream-queue.js';
import { backoffMs, sleep } from '../etcd/timers.js';
import type { RawKeyValue } from '../etcd/transport.js';
import type { WatchResponse } from '../etcd/watch-messages.js';
import { WatchState } from './watch-state.js';

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
  /** For a PUT of a malformed value: the entry as `list` would report it. */
  malformed?: MalformedEntry;
  /**
   * What etcd sent, as `etcdctl watch -- cmd` hands it to its command: the key's and the
   * value's bytes (no value for a DELETE), and the revision of the response that carried
   * the event (the store's when it was sent; the read's, after a resync).
   */
  sent?: { key: Buffer; value: Buffer; revision: number };
}

/** Why a watch resynced: the history it missed is gone. */
export type ResyncReason = 'compacted' | 'revision went back' | 'cluster changed';

/** Marks that the missed history is gone: the events that follow are the difference. */
export interface ResyncEvent {
  type: 'RESYNC';
  /** The revision of the read the difference comes from. */
  revision: number;
  /** The compaction that removed the missed history; 0 when it was not a compaction. */
  compact_revision: number;
  reason: ResyncReason;
  /** How many `resync` events follow: a state built from events is whole again after them. */
  changes: number;
}

export type WatchEvent = ChangeEvent | ResyncEvent;

/** Connection state changes, for a caller that reports them (throttled by the caller). */
export interface WatchStatus {
  /** `established`: the first stream is live, delivering from `revision` on. */
  state: 'established' | 'disconnected' | 'reconnected';
  /** Why the connection was lost, said as one-shot commands say it. */
  error?: string;
  retryInMs?: number;
  revision?: number;
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
  sentRevision: number,
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
    // Copies: a decoded value is a view into the whole response it came in.
    sent: { key: Buffer.from(kv.key), value: type === 'PUT' ? Buffer.from(kv.value) : Buffer.alloc(0), revision: sentRevision },
  };
  if (type === 'PUT' && entry.ok) event.record = entry.record;
  if (type === 'PUT' && !entry.ok) {
    event.problem = entry.malformed.problem;
    event.malformed = entry.malformed;
  }
  return event;
}

/** Responses held before the stream is paused: each is at most about 1.5 MB (`fragment`). */
const QUEUE_HIGH_WATER = 2;

/** Where the watch starts: a read of the prefix, whose revision is delivered as a whole. */
async function startingState(conn: Connection, keyPrefix: string, key: Buffer, rangeEnd: Buffer, options: WatchOptions): Promise<WatchState> {
  if (options.initial) return new WatchState(options.initial.revision, options.initial.kvs);
  if (options.startRevision !== undefined && options.startRevision <= 1) {
    // Nothing precedes revision 1; still ask etcd once, so an unreachable etcd fails
    // within the timeout here instead of entering the reconnect loop.
    await conn.call('watch', (t, deadline) => t.range({ key, range_end: rangeEnd, count_only: true }, deadline));
    return new WatchState(0);
  }
  const at = options.startRevision === undefined ? undefined : options.startRevision - 1;
  try {
    const snap = await readPrefix(conn, keyPrefix, { revision: at });
    return new WatchState(snap.revision, snap.kvs);
  } catch (err) {
    if (err instanceof CompactedError) {
      throw new UsageError(`revision ${options.startRevision} has been compacted`, 'watch from a later --rev, or without --rev', { cause: err });
    }
    if (err instanceof FutureRevisionError) {
      throw new UsageError(`revision ${options.startRevision} is in the future`, 'watch from a revision etcd has reached, or without --rev', { cause: err });
    }
    throw err;
  }
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
  const state = await startingState(conn, keyPrefix, key, rangeEnd, options);
  let clusterId: string | undefined;
  let established = false;

  let failures = 0;
  while (!signal?.aborted) {
    const queue = new StreamQueue<StreamItem>(QUEUE_HIGH_WATER, (item) => 'response' in item);
    const onAbort = () => queue.push({ end: true });
    signal?.addEventListener('abort', onAbort, { once: true });
    let endpoint: number | undefined;
    let stream: WatchStream | undefined;
    let lost: { reason: ResyncReason; compactRevision: number } | undefined;
    let failure: Error | undefined;
    let created: Deadline | undefined;
    try {
      // The stream requires a leader: etcd refuses or ends it while its member has none.
      const opened = await conn.watchStream({
        data: (response) => queue.push({ response }),
        error: (error) => queue.push({ error }),
        end: () => queue.push({ end: true }),
      });
      endpoint = opened.endpoint;
      stream = opened.stream;
      // A member that is frozen or blackholed accepts the stream and never answers.
      created = opened.created;
      created.expired.catch((error: Error) => queue.push({ error }));
      queue.source = stream;
      stream.write({
        create_request: { key, range_end: rangeEnd, start_revision: state.resumeFrom, prev_kv: true, progress_notify: true, fragment: true },
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
          created.dispose();
          lost = await historyLost(conn, key, rangeEnd, state, response.header, clusterId);
          // The resync that follows a loss catches up with this cluster.
          clusterId = response.header.cluster_id;
          if (lost) break;
          if (!established) onStatus?.({ state: 'established', revision: state.resumeFrom });
          else if (failures > 0) onStatus?.({ state: 'reconnected' });
          established = true;
          failures = 0;
        }
        if (response.canceled) {
          const compacted = Number(response.compact_revision);
          if (compacted > 0) {
            lost = { reason: 'compacted', compactRevision: compacted };
            break;
          }
          const canceled = watchCanceled(response.cancel_reason, `watch ${keyPrefix}`);
          if (canceled instanceof AuthError) throw canceled;
          // Includes an expired auth token: reporting the failure makes the next attempt re-authenticate.
          failure = canceled;
          break;
        }
        const events = response.events ?? [];
        for (const ev of events) {
          const revision = Number(ev.kv.mod_revision);
          const changed = ev.kv.key.toString();
          if (state.delivered(revision, changed)) continue;
          const type = ev.type === 'Delete' ? 'DELETE' : 'PUT';
          yield changeEvent(registryPrefix, type, ev.kv, ev.prev_kv ?? state.previous(changed), Number(response.header.revision));
          state.record(revision, changed, type === 'DELETE' ? null : ev.kv);
          if (signal?.aborted) return;
        }
        if (events.length === 0 && !response.created) state.progress(Number(response.header.revision));
      }
    } catch (err) {
      if (err instanceof AuthError) throw err;
      failure = err as Error;
    } finally {
      created?.dispose();
      signal?.removeEventListener('abort', onAbort);
      stream?.cancel();
    }
    if (signal?.aborted) return;
    if (lost) {
      try {
        yield* resync(conn, registryPrefix, keyPrefix, state, lost.reason, lost.compactRevision);
        continue;
      } catch (err) {
        if (err instanceof AuthError) throw err;
        failure = err as Error; // the state is unchanged: the next attempt resyncs again
      }
    }
    if (failure && endpoint !== undefined) conn.failed(endpoint, failure);
    const pause = backoffMs(failures++);
    onStatus?.({ state: 'disconnected', error: failure && conn.translate(failure, '').message, retryInMs: pause });
    await sleep(pause, signal);
  }
}

/**
 * Whether the history after what was delivered is gone although etcd did not say it
 * was compacted: another cluster answers, or etcd's revision is behind what was
 * delivered (restarted on a new data dir). A member that merely lags is told apart by
 * a linearizable read, which the cluster's leader answers.
 */
async function historyLost(
  conn: Connection,
  key: Buffer,
  rangeEnd: Buffer,
  state: WatchState,
  header: WatchResponse['header'],
  clusterId: string | undefined,
): Promise<{ reason: ResyncReason; compactRevision: number } | undefined> {
  if (clusterId !== undefined && header.cluster_id !== clusterId) return { reason: 'cluster changed', compactRevision: 0 };
  if (Number(header.revision) >= state.revision) return undefined;
  const now = await conn.call('watch', (t, deadline) => t.range({ key, range_end: rangeEnd, count_only: true }, deadline));
  return Number(now.revision) < state.revision ? { reason: 'revision went back', compactRevision: 0 } : undefined;
}

/**
 * The missed history is gone: read the prefix now, emit the difference from what was
 * delivered as events marked `resync`, and continue from the read.
 */
async function* resync(
  conn: Connection,
  registryPrefix: string,
  keyPrefix: string,
  state: WatchState,
  reason: ResyncReason,
  compactRevision: number,
): AsyncGenerator<WatchEvent> {
  const snap = await readPrefix(conn, keyPrefix);
  const changes = state.diff(snap.kvs);
  yield { type: 'RESYNC', revision: snap.revision, compact_revision: compactRevision, reason, changes: changes.length };
  for (const change of changes) {
    // Deletions have no revision of their own left: they are dated at the read.
    const kv = change.type === 'DELETE' ? { ...change.kv, mod_revision: String(snap.revision) } : change.kv;
    yield { ...changeEvent(registryPrefix, change.type, kv, change.prev, snap.revision), resync: true };
  }
  state.reset(snap.revision, snap.kvs);
}
