/**
 * The instance value: the seed's JSON document, read leniently and written compatibly.
 */

/** One registered instance, as stored under `<prefix><service>/<id>`. Unknown fields are kept. */
export interface Instance {
  service_id: string;
  service_name: string;
  address: string;
  port: number;
  tags: string[];
  metadata: Record<string, unknown>;
  /** Seconds since the epoch, as a float (Python's `time.time()`). */
  registered_at: number;
  [extra: string]: unknown;
}

export type Decoded = { ok: true; instance: Instance } | { ok: false; problem: string };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An integer from 1 to 65535. */
export function isValidPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535;
}

/**
 * Decodes a stored value. Never throws: anything that is not a seed-format instance
 * comes back as `{ ok: false, problem }` so a listing can report it and go on.
 * `expected` is the service and id taken from the key; the value must agree with it.
 */
export function decodeInstance(raw: Buffer | string, expected?: { service: string; id: string }): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString());
  } catch {
    return { ok: false, problem: 'value is not JSON' };
  }
  if (!isPlainObject(value)) return { ok: false, problem: 'value is not a JSON object' };
  const v = value; // freshly parsed: ours to complete
  v.tags ??= [];
  v.metadata ??= {};
  if (typeof v.service_id !== 'string' || v.service_id === '') return { ok: false, problem: 'service_id is missing or not a string' };
  if (typeof v.service_name !== 'string' || v.service_name === '') return { ok: false, problem: 'service_name is missing or not a string' };
  if (typeof v.address !== 'string' || v.address === '') return { ok: false, problem: 'address is missing or not a string' };
  if (!isValidPort(v.port)) return { ok: false, problem: 'port is missing or not an integer from 1 to 65535' };
  if (!Array.isArray(v.tags) || !v.tags.every((t) => typeof t === 'string')) return { ok: false, problem: 'tags is not a list of strings' };
  if (!isPlainObject(v.metadata)) return { ok: false, problem: 'metadata is not an object' };
  if (typeof v.registered_at !== 'number' || !Number.isFinite(v.registered_at)) return { ok: false, problem: 'registered_at is missing or not a number' };
  if (expected && (v.service_name !== expected.service || v.service_id !== expected.id)) {
    return { ok: false, problem: `value names ${v.service_name}/${v.service_id}, key names ${expected.service}/${expected.id}` };
  }
  return { ok: true, instance: v as Instance };
}

/** Serialises an instance with the seed's fields first, so the seed's Python code reads it unchanged. */
export function encodeInstance(instance: Instance): string {
  const { service_id, service_name, address, port, tags, metadata, registered_at, ...rest } = instance;
  return JSON.stringify({ service_id, service_name, address, port, tags, metadata, registered_at, ...rest });
}

/** What `discover` filters on: every tag present, every metadata key equal (compared as text). */
export interface InstanceFilter {
  tags?: string[];
  meta?: Record<string, string>;
}

/** Whether `instance` has every tag and every metadata pair of `filter`. */
export function matchesFilter(instance: Instance, filter: InstanceFilter = {}): boolean {
  for (const tag of filter.tags ?? []) if (!instance.tags.includes(tag)) return false;
  for (const [k, v] of Object.entries(filter.meta ?? {})) {
    if (!Object.hasOwn(instance.metadata, k)) return false;
    const actual = instance.metadata[k];
    if ((typeof actual === 'string' ? actual : JSON.stringify(actual)) !== v) return false;
  }
  return true;
}

/** `host:port`, an IPv6 address in brackets: what a client connects to. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]:${port}` : `${address}:${port}`;
}
