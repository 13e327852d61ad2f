// Thousands of random names, ids, metadata and values through the key builder and the
// value codec. Seeded, so a failure names the seed that reproduces it.
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/registry/entry.js';
import { UsageError } from '../../src/registry/errors.js';
import { decodeInstance, encodeInstance, type Instance } from '../../src/registry/instance.js';
import { instanceKey, parseKey, prefixRangeEnd, serviceKeyPrefix, validateSegment } from '../../src/registry/keys.js';

const RUNS = 5000;
const SEED = Number(process.env.FUZZ_SEED ?? 20261124);

/** mulberry32: a small seeded generator. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// What breaks key handling: separators, dots, controls, surrogate halves, a prefix look-alike.
const PIECES = ['/', '.', '..', '\u0000', '\n', '\u007f', '\u0085', '\ud800', '\udc00', '😀', 'é', ' ', '*', '\\', '%2F', 'services', '-', '_', 'a', 'b', 'z', '0', '9'];

function text(rand: () => number, maxPieces = 8): string {
  if (rand() < 0.02) return 'x'.repeat(Math.floor(rand() * 400));
  let s = '';
  const n = Math.floor(rand() * maxPieces);
  for (let i = 0; i < n; i++) s += rand() < 0.7 ? PIECES[Math.floor(rand() * PIECES.length)] : String.fromCharCode(Math.floor(rand() * 0x3000));
  return s;
}

function value(rand: () => number, depth = 0): unknown {
  const r = rand();
  if (depth > 3 || r < 0.3) return [null, true, 0, -1, 1.5, 1e308, text(rand)][Math.floor(rand() * 7)];
  if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => value(rand, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, () => [text(rand, 3), value(rand, depth + 1)]));
}

function validName(rand: () => number): string | undefined {
  const name = text(rand);
  try {
    return validateSegment('service name', name);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return undefined;
  }
}

const within = (key: Buffer, start: Buffer) => key.compare(start) >= 0 && key.compare(prefixRangeEnd(start)) < 0;

describe(`fuzz (seed ${SEED}, FUZZ_SEED=n to change)`, () => {
  it('a name or id either fails validation with a UsageError or builds a key inside <prefix><service>/ and no other service', () => {
    const rand = random(SEED);
    let valid = 0;
    for (let i = 0; i < RUNS; i++) {
      const prefix = rand() < 0.5 ? '/services/' : '/a/b/';
      const [service, id, other] = [validName(rand), validName(rand), validName(rand)];
      if (service === undefined || id === undefined) continue;
      valid++;
      const key = Buffer.from(instanceKey(prefix, service, id));
      const context = JSON.stringify({ seed: SEED, i, service, id });
      expect(within(key, Buffer.from(serviceKeyPrefix(prefix, service))), context).toBe(true);
      if (other !== undefined && other !== service) expect(within(key, Buffer.from(serviceKeyPrefix(prefix, other))), context).toBe(false);
      // What etcd stores comes back as the same service and id.
      expect(parseKey(prefix, key.toString()), context).toEqual({ ok: true, service, id });
    }
    expect(valid, 'too few valid names to say anything').toBeGreaterThan(RUNS / 10);
  });

  it('decoding random bytes and random JSON never throws: an instance or a problem', () => {
    const rand = random(SEED + 1);
    for (let i = 0; i < RUNS; i++) {
      const raw = rand() < 0.3 ? Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256))) : JSON.stringify(value(rand));
      const decoded = decodeInstance(raw);
      if (!decoded.ok) expect(typeof decoded.problem).toBe('string');
    }
  });

  it('classifying random keys and values never throws, and never files an entry outside its key', () => {
    const rand = random(SEED + 2);
    for (let i = 0; i < RUNS; i++) {
      const key = Buffer.from(`/services/${text(rand)}`);
      const kv = { key, value: Buffer.from(JSON.stringify(value(rand))), lease: '0', create_revision: '1', mod_revision: '1' };
      const entry = classify('/services/', kv);
      expect(entry.ok ? entry.record.key : entry.malformed.key).toBe(key.toString());
    }
  });

  it('any instance with valid names and random metadata survives encode then decode unchanged', () => {
    const rand = random(SEED + 3);
    let checked = 0;
    for (let i = 0; i < RUNS; i++) {
      const [service, id] = [validName(rand), validName(rand)];
      if (service === undefined || id === undefined) continue;
      const metadata = Object.fromEntries(Array.from({ length: Math.floor(rand() * 5) }, () => [text(rand, 4), value(rand)]));
      const instance: Instance = {
        service_id: id,
        service_name: service,
        address: text(rand) || 'h',
        port: 1 + Math.floor(rand() * 65535),
        tags: Array.from({ length: Math.floor(rand() * 3) }, () => text(rand, 3)),
        metadata,
        registered_at: rand() * 2e9,
      };
      const decoded = decodeInstance(encodeInstance(instance), { service, id });
      expect(decoded, JSON.stringify({ seed: SEED, i })).toEqual({ ok: true, instance: JSON.parse(JSON.stringify(instance)) });
      checked++;
    }
    expect(checked).toBeGreaterThan(RUNS / 10);
  });
});
