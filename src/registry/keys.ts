/**
 * Key layout: `<prefix><service>/<id>`. Names are single key segments so that a
 * service name can never widen a range (`foo` reads `/services/foo/`, never `foobar`).
 */
import { UsageError } from './errors.js';

/** The seed's key prefix. */
export const DEFAULT_PREFIX = '/services/';

/** Longest service name or instance id accepted (a DNS name fits). */
export const MAX_SEGMENT_LENGTH = 253;

// C0 controls, DEL and C1 controls: they break terminals, logs and shell scripts.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
// Half of a surrogate pair: it cannot be encoded, so two different names would share one key.
const LONE_SURROGATE = /\p{Cs}/u;
// Either of the two above, or half of a pair that is whole: one quick scan, before the exact ones.
const SUSPECT = /[\u0000-\u001f\u007f-\u009f\ud800-\udfff]/;

/** Why `value` is not a valid key segment, or undefined when it is. */
export function segmentProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value === '.' || value === '..') return `may not be "${value}"`;
  if (value.includes('/')) return 'may not contain "/"';
  if (SUSPECT.test(value)) {
    if (CONTROL_CHARS.test(value)) return 'may not contain control characters';
    if (LONE_SURROGATE.test(value)) return 'is not valid Unicode';
  }
  if (value.length > MAX_SEGMENT_LENGTH) return `is longer than ${MAX_SEGMENT_LENGTH} characters`;
  return undefined;
}

/**
 * What makes a valid segment awkward, though keys written by others may hold it and
 * must stay readable: said as a warning when svcreg creates one.
 */
export function segmentCaveat(value: string): string | undefined {
  return /\s/.test(value) ? 'contains whitespace, which every shell command using it must quote' : undefined;
}

/** Throws a UsageError unless `value` is a valid service name or instance id. */
export function validateSegment(what: 'service name' | 'instance id', value: string): string {
  const problem = segmentProblem(value);
  if (problem) throw new UsageError(`invalid ${what} ${JSON.stringify(value)}: it ${problem}`);
  return value;
}

/**
 * Returns `prefix` if it starts and ends with `/` and has no control characters;
 * throws a UsageError otherwise. Guessing a missing slash could widen every range:
 * `/services` would also read `/services-old/`.
 */
export function validatePrefix(prefix: string): string {
  if (!prefix.startsWith('/') || !prefix.endsWith('/') || CONTROL_CHARS.test(prefix) || LONE_SURROGATE.test(prefix)) {
    throw new UsageError(`invalid prefix ${JSON.stringify(prefix)}: it must start and end with "/"`, 'use a path such as /services/');
  }
  return prefix;
}

/** The key range holding every instance of one service: `<prefix><service>/`. */
export function serviceKeyPrefix(prefix: string, service: string): string {
  return `${prefix}${service}/`;
}

/** The key of one instance: `<prefix><service>/<id>`. */
export function instanceKey(prefix: string, service: string, id: string): string {
  return `${prefix}${service}/${id}`;
}

export type ParsedKey =
  | { ok: true; service: string; id: string }
  | { ok: false; service?: string; id?: string; problem: string };

/** Splits a key under `prefix` into service and id; keys at the wrong depth are reported, not thrown. */
export function parseKey(prefix: string, key: string): ParsedKey {
  if (!key.startsWith(prefix)) return { ok: false, problem: 'key is outside the prefix' };
  const parts = key.slice(prefix.length).split('/');
  const service = parts[0];
  if (parts.length !== 2) {
    return { ok: false, service, problem: `key is not <prefix><service>/<id> (${parts.length} segments)` };
  }
  const id = parts[1];
  const problem = segmentProblem(service) ?? segmentProblem(id);
  if (problem) return { ok: false, service, id, problem: `key segment ${problem}` };
  return { ok: true, service, id };
}

/** etcd's range_end for "every key starting with `prefix`". */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // all 0xff: to the end of the keyspace
}
