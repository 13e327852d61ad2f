/**
 * What a watch has delivered, so that it delivers each change exactly once: the
 * keys and values as of the last revision it delivered (to diff against after a
 * compaction or a reset), and which keys of that revision it has delivered. etcd
 * 3.4.23 can repeat events of one revision in a response (etcd PR 15248, fixed in
 * 3.4.24), and one transaction yields several events of one revision, so an event
 * is a repeat by its revision *and* key, never by its revision alone.
 */
import type { RawKeyValue } from '../etcd/transport.js';

/** One change the diff found: a key that is new or changed (PUT), or gone (DELETE). */
export interface Difference {
  type: 'PUT' | 'DELETE';
  kv: RawKeyValue;
  prev: RawKeyValue | undefined;
}

/**
 * A copy of `kv` that holds only its own bytes: a decoded value is a view into the whole
 * response it came in (up to 1.5 MB), which the state would otherwise keep alive per key.
 */
function detached(kv: RawKeyValue): RawKeyValue {
  return { ...kv, key: Buffer.from(kv.key), value: Buffer.from(kv.value) };
}

export class WatchState {
  private readonly values = new Map<string, RawKeyValue>();
  /** The last revision delivered, whole or in part. */
  private last = 0;
  /** Keys of revision `last` delivered; null when all of it is (a snapshot, or a progress notice). */
  private keysAtLast: Set<string> | null = null;

  /** Starts from a read of the prefix at `revision` (or from nothing before revision 1). */
  constructor(revision: number, kvs: RawKeyValue[] = []) {
    this.reset(revision, kvs);
  }

  /** The revision to resume from: the last one again unless it is known to be whole (repeats are dropped). */
  get resumeFrom(): number {
    return this.keysAtLast === null ? this.last + 1 : this.last;
  }

  /** The last revision delivered. */
  get revision(): number {
    return this.last;
  }

  /** The value of `key` before the next change to it. */
  previous(key: string): RawKeyValue | undefined {
    return this.values.get(key);
  }

  /** Whether the change to `key` at `revision` was delivered already. */
  delivered(revision: number, key: string): boolean {
    if (revision !== this.last) return revision < this.last;
    return this.keysAtLast === null || this.keysAtLast.has(key);
  }

  /** Records a delivered change; `kv` is null for a deletion. */
  record(revision: number, key: string, kv: RawKeyValue | null): void {
    if (revision > this.last) {
      this.last = revision;
      this.keysAtLast = new Set();
    }
    this.keysAtLast?.add(key);
    if (kv) this.values.set(key, detached(kv));
    else this.values.delete(key);
  }

  /** etcd says every change up to `revision` has been sent (a progress notice). */
  progress(revision: number): void {
    if (revision >= this.last) {
      this.last = revision;
      this.keysAtLast = null;
    }
  }

  /**
   * The changes from what was delivered to `now` (a read at `revision`): changed keys in
   * the order they changed, then the deleted ones. A value counts as changed when its
   * bytes or revisions differ: after etcd restarted on a new data dir, the same
   * revision can hold another value.
   */
  diff(now: RawKeyValue[]): Difference[] {
    const current = new Map(now.map((kv) => [kv.key.toString(), kv]));
    const changed: Difference[] = [];
    for (const [key, kv] of current) {
      const prev = this.values.get(key);
      if (!prev || prev.mod_revision !== kv.mod_revision || prev.create_revision !== kv.create_revision || !prev.value.equals(kv.value)) {
        changed.push({ type: 'PUT', kv, prev });
      }
    }
    changed.sort((a, b) => Number(a.kv.mod_revision) - Number(b.kv.mod_revision));
    for (const [key, prev] of this.values) {
      if (!current.has(key)) changed.push({ type: 'DELETE', kv: { ...prev, value: Buffer.alloc(0) }, prev });
    }
    return changed;
  }

  /** Everything up to `revision` is now known to be `kvs`. */
  reset(revision: number, kvs: RawKeyValue[]): void {
    this.values.clear();
    for (const kv of kvs) this.values.set(kv.key.toString(), kv);
    this.last = revision;
    this.keysAtLast = null;
  }
}
