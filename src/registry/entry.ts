/**
 * A stored key-value pair, classified: a valid instance, or a malformed entry that
 * is reported (never dropped, never fatal).
 */
import { decodeInstance, type Instance } from './instance.js';
import { parseKey } from './keys.js';
import type { RawKeyValue } from '../etcd/transport.js';

/** A decoded instance as listed: the stored fields at top level, plus where it lives. */
export type InstanceRecord = Instance & {
  key: string;
  /** Lease id in hex (as etcdctl prints it), or null when the key has no lease. */
  lease: string | null;
  create_revision: number;
  mod_revision: number;
  /** Seconds the lease has left (-1: expired), when asked for (`-o wide`). */
  ttl_left?: number | null;
};

/** An entry under the prefix that is not a valid instance. */
export interface MalformedEntry {
  key: string;
  service: string | null;
  id: string | null;
  malformed: true;
  problem: string;
  /** The stored value as text, cut at 1,000 characters. */
  raw: string;
  lease: string | null;
  create_revision: number;
  mod_revision: number;
  /** Seconds the lease has left (-1: expired), when asked for (`-o wide`). */
  ttl_left?: number | null;
}

export type Entry = { ok: true; record: InstanceRecord } | { ok: false; malformed: MalformedEntry };

export function leaseHex(lease: string | undefined): string | null {
  return lease && lease !== '0' ? BigInt(lease).toString(16) : null;
}

export function classify(prefix: string, kv: RawKeyValue): Entry {
  const key = kv.key.toString();
  const where = {
    key,
    lease: leaseHex(kv.lease),
    create_revision: Number(kv.create_revision),
    mod_revision: Number(kv.mod_revision),
  };
  const parsed = parseKey(prefix, key);
  const decoded = parsed.ok ? decodeInstance(kv.value, parsed) : undefined;
  if (decoded?.ok) return { ok: true, record: Object.assign(decoded.instance, where) };
  const raw = kv.value.toString();
  return {
    ok: false,
    malformed: {
      ...where,
      service: parsed.service ?? null,
      id: parsed.id ?? null,
      malformed: true,
      problem: parsed.ok ? (decoded as { problem: string }).problem : parsed.problem,
      raw: raw.length > 1000 ? `${raw.slice(0, 1000)}...` : raw,
    },
  };
}
