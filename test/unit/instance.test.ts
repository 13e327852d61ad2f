import { describe, expect, it } from 'vitest';
import { decodeInstance, encodeInstance, matchesFilter, type Instance } from '../../src/registry/instance.js';

// Exactly what the seed's Python code writes (json.dumps of its dict).
const SEED_VALUE =
  '{"service_id": "user-service-001", "service_name": "user-service", "address": "10.0.1.5", "port": 5001, "tags": ["v1"], "metadata": {"zone": "a"}, "registered_at": 1764000000.123}';

describe('decodeInstance', () => {
  it('reads a value written by the seed unchanged', () => {
    const d = decodeInstance(SEED_VALUE, { service: 'user-service', id: 'user-service-001' });
    expect(d).toEqual({ ok: true, instance: JSON.parse(SEED_VALUE) });
  });

  it('keeps unknown fields such as health', () => {
    const d = decodeInstance(JSON.stringify({ ...JSON.parse(SEED_VALUE), health: { status: 'passing' }, extra: 1 }));
    expect(d.ok && d.instance.health).toEqual({ status: 'passing' });
    expect(d.ok && d.instance.extra).toBe(1);
  });

  it('defaults missing tags and metadata as the seed does', () => {
    const { tags: _t, metadata: _m, ...rest } = JSON.parse(SEED_VALUE);
    const d = decodeInstance(JSON.stringify(rest));
    expect(d.ok && [d.instance.tags, d.instance.metadata]).toEqual([[], {}]);
  });

  it.each([
    ['not JSON', 'hello', /not JSON/],
    ['a JSON array', '[1,2]', /not a JSON object/],
    ['JSON null', 'null', /not a JSON object/],
    ['an empty value', '', /not JSON/],
    ['a missing address', JSON.stringify({ ...JSON.parse(SEED_VALUE), address: undefined }), /address/],
    ['a string port', JSON.stringify({ ...JSON.parse(SEED_VALUE), port: '5001' }), /port/],
    ['port 0', JSON.stringify({ ...JSON.parse(SEED_VALUE), port: 0 }), /port/],
    ['port 65536', JSON.stringify({ ...JSON.parse(SEED_VALUE), port: 65536 }), /port/],
    ['tags that are not strings', JSON.stringify({ ...JSON.parse(SEED_VALUE), tags: [1] }), /tags/],
    ['metadata that is a list', JSON.stringify({ ...JSON.parse(SEED_VALUE), metadata: [] }), /metadata/],
    ['a missing registered_at', JSON.stringify({ ...JSON.parse(SEED_VALUE), registered_at: undefined }), /registered_at/],
  ])('reports %s as malformed instead of throwing', (_what, raw, problem) => {
    const d = decodeInstance(raw);
    expect(d.ok).toBe(false);
    expect(!d.ok && d.problem).toMatch(problem);
  });

  it('reports a value whose name disagrees with its key', () => {
    const d = decodeInstance(SEED_VALUE, { service: 'user-service', id: 'other' });
    expect(!d.ok && d.problem).toMatch(/key names user-service\/other/);
  });
});

describe('encodeInstance', () => {
  it('writes the seed fields first and round-trips', () => {
    const instance: Instance = { ...JSON.parse(SEED_VALUE), health: { status: 'passing' } };
    const text = encodeInstance({ health: instance.health, ...instance });
    expect(Object.keys(JSON.parse(text))).toEqual(['service_id', 'service_name', 'address', 'port', 'tags', 'metadata', 'registered_at', 'health']);
    expect(decodeInstance(text)).toEqual({ ok: true, instance });
  });
});

describe('matchesFilter', () => {
  const instance = JSON.parse(SEED_VALUE) as Instance;
  it('matches when every tag and every metadata pair is present', () => {
    expect(matchesFilter(instance, { tags: ['v1'], meta: { zone: 'a' } })).toBe(true);
  });
  it('fails on a missing tag', () => {
    expect(matchesFilter(instance, { tags: ['v1', 'v2'] })).toBe(false);
  });
  it('fails on a different metadata value', () => {
    expect(matchesFilter(instance, { meta: { zone: 'b' } })).toBe(false);
  });
  it('compares non-string metadata as JSON text', () => {
    expect(matchesFilter({ ...instance, metadata: { weight: 10 } }, { meta: { weight: '10' } })).toBe(true);
  });
});
