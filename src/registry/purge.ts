/**
 * The deleting half of `purge`: each planned entry is deleted only if its revision is
 * unchanged since it was listed, in batches of one transaction each (deleting all of
 * them only if none changed; a batch where one did is redone entry by entry).
 */
import type { Connection } from '../etcd/connection.js';
import type { InstanceRecord } from './entry.js';
import { SvcregError, TooManyOperationsError } from './errors.js';

/** Entries per delete transaction (etcd allows 128 operations in one), and transactions in flight. */
const PURGE_BATCH = 100;
const PURGE_CONCURRENCY = 4;

/** One entry `purge` will delete, with the revision it was listed at. */
export interface PurgeEntry {
  key: string;
  mod_revision: number;
  service: string | null;
  id: string | null;
  /** Set for malformed entries: why. */
  problem?: string;
  instance?: InstanceRecord;
}

export interface PurgeResult {
  deleted: PurgeEntry[];
  /** Entries that changed (or vanished) after they were listed, and were left alone. */
  skipped: PurgeEntry[];
}

/** Deletes `entries` that are unchanged; the result keeps their order. */
export async function deleteUnchanged(conn: Connection, entries: PurgeEntry[], onProgress?: (done: number) => void): Promise<PurgeResult> {
    const deleteIfUnchanged = async (batch: PurgeEntry[]) => {
      const keys = batch.map((e) => Buffer.from(e.key));
      const compare = batch.map((e, i) => ({ key: keys[i], target: 'Mod' as const, mod_revision: e.mod_revision }));
      const success = keys.map((key) => ({ request_delete_range: { key } }));
      return (await conn.call('delete', (t, deadline) => t.txn({ compare, success }, deadline))).succeeded;
    };
    const deleteBatch = async (batch: PurgeEntry[]) => {
      try {
        if (await deleteIfUnchanged(batch)) return batch;
      } catch (err) {
        // A cluster started with a --max-txn-ops below the batch: go one by one.
        if (!(err instanceof TooManyOperationsError)) throw err;
      }
      const gone: PurgeEntry[] = [];
      for (const e of batch) if (await deleteIfUnchanged([e])) gone.push(e);
      return gone;
    };
    const deleted = new Set<PurgeEntry>();
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < entries.length) {
        const batch = entries.slice(next, (next += PURGE_BATCH));
        try {
          for (const e of await deleteBatch(batch)) deleted.add(e);
        } catch (err) {
          next = entries.length; // the other workers stop too
          throw err;
        }
        onProgress?.((done += batch.length));
      }
    };
    // Every worker finishes its transaction before a failure is reported, so the count below is whole.
    const failures = (await Promise.allSettled(Array.from({ length: PURGE_CONCURRENCY }, worker))).filter((r) => r.status === 'rejected');
    if (failures.length > 0) {
      const err = (failures[0] as PromiseRejectedResult).reason as Error;
      const partial = `${deleted.size} of ${entries.length} deleted before it`;
      throw err instanceof SvcregError ? new (err.constructor as typeof SvcregError)(`${err.message}; ${partial}`, err.hint, { cause: err }) : err;
    }
    return { deleted: entries.filter((e) => deleted.has(e)), skipped: entries.filter((e) => !deleted.has(e)) };
}
