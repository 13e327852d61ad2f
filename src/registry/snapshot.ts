/**
 * Reads every key under a prefix as one consistent snapshot: pages of keys, all at
 * the revision of the first page, so a long listing never mixes two states.
 */
import type { Connection } from './connection.js';
import type { RawKeyValue } from './entry.js';
import { prefixRangeEnd } from './keys.js';

export const PAGE_SIZE = 2000;

export interface Snapshot {
  revision: number;
  kvs: RawKeyValue[];
}

/**
 * Reads `prefix` at `revision` (default: now) one page at a time, every page at the
 * revision of the first, so a caller can stream a listing of any size.
 */
export async function* readPages(conn: Connection, prefix: string, options: { revision?: number } = {}): AsyncGenerator<Snapshot> {
  const rangeEnd = prefixRangeEnd(Buffer.from(prefix));
  let from = Buffer.from(prefix);
  let revision = options.revision ?? 0;
  for (;;) {
    const page = await conn.call('read', (client, o) => client.kv.range({ key: from, range_end: rangeEnd, limit: PAGE_SIZE, revision }, o));
    if (revision === 0) revision = Number(page.header.revision);
    yield { revision, kvs: page.kvs as RawKeyValue[] };
    if (!page.more || page.kvs.length === 0) return;
    // The next page starts just after the last key read.
    from = Buffer.concat([page.kvs[page.kvs.length - 1].key, Buffer.from([0])]);
  }
}

/** Reads all of `prefix` at `revision` (default: now). */
export async function readPrefix(conn: Connection, prefix: string, options: { revision?: number } = {}): Promise<Snapshot> {
  let revision = 0;
  const kvs: RawKeyValue[] = [];
  for await (const page of readPages(conn, prefix, options)) {
    revision = page.revision;
    kvs.push(...page.kvs);
  }
  return { revision, kvs };
}
