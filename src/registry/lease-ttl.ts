/**
 * How long the lease of each listed entry has left, for `-o wide`: one LeaseTimeToLive
 * request per distinct lease (a registry's instances each have their own), a few at a time.
 */
import type { Connection } from '../etcd/connection.js';
import type { InstanceRecord, MalformedEntry } from './entry.js';

const IN_FLIGHT = 16;

/** Sets `ttl_left` (seconds; -1 once expired; null without a lease) on every entry. */
export async function addTimesToLive(conn: Connection, entries: (InstanceRecord | MalformedEntry)[]): Promise<void> {
  const leases = [...new Set(entries.map((e) => e.lease).filter((l): l is string => l !== null))];
  const left = new Map<string, number>();
  let next = 0;
  const worker = async () => {
    while (next < leases.length) {
      const lease = leases[next++];
      // Records show lease ids in hex, as etcdctl does; requests take them in decimal.
      const id = BigInt(`0x${lease}`).toString();
      left.set(lease, await conn.call('lease time to live', (t, deadline) => t.leaseTimeToLive(id, deadline)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, leases.length) }, worker));
  for (const e of entries) e.ttl_left = e.lease === null ? null : (left.get(e.lease) ?? -1);
}
