/**
 * The names under the prefix, read as keys alone (no values): the services, or the
 * instance ids of one service, that start with what was typed. For shell completion,
 * where a listing of every value would be too slow.
 */
import type { Connection } from '../etcd/connection.js';
import { prefixRangeEnd, segmentProblem, serviceKeyPrefix } from './keys.js';
import { PAGE_SIZE, readPrefix } from './snapshot.js';

/**
 * The distinct services under `prefix` whose names start with `start`, sorted. After each
 * page the read jumps past the rest of its last service's keys, so no service costs more
 * than one page, however many instances it has.
 */
export async function serviceNames(conn: Connection, prefix: string, start: string): Promise<string[]> {
  const names = new Set<string>();
  const rangeEnd = prefixRangeEnd(Buffer.from(prefix + start));
  let from: Buffer = Buffer.from(prefix + start);
  for (;;) {
    const page = await conn.call('read', (t, deadline) => t.range({ key: from, range_end: rangeEnd, limit: PAGE_SIZE, keys_only: true }, deadline));
    let last: Buffer | undefined;
    for (const kv of page.kvs) {
      last = kv.key;
      const service = serviceOf(prefix, kv.key.toString());
      if (service !== undefined) names.add(service);
    }
    if (!page.more || !last) return [...names].sort();
    const service = serviceOf(prefix, last.toString());
    from = service === undefined ? Buffer.concat([last, Buffer.from([0])]) : prefixRangeEnd(Buffer.from(serviceKeyPrefix(prefix, service)));
  }
}

/** The ids of `service`'s instances that start with `start`. */
export async function instanceIds(conn: Connection, prefix: string, service: string, start: string): Promise<string[]> {
  const within = serviceKeyPrefix(prefix, service);
  const { kvs } = await readPrefix(conn, within + start, { keysOnly: true });
  return kvs.map((kv) => kv.key.toString().slice(within.length)).filter((id) => segmentProblem(id) === undefined);
}

/** The service a key belongs to (`<prefix><service>/...`), or undefined when it names none that `discover` could read. */
function serviceOf(prefix: string, key: string): string | undefined {
  const rest = key.slice(prefix.length);
  const slash = rest.indexOf('/');
  const service = rest.slice(0, slash);
  return slash > 0 && segmentProblem(service) === undefined ? service : undefined;
}
