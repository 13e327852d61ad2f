import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Io } from '../../src/output/io.js';
import { printerFor } from '../../src/output/printer.js';
import { age } from '../../src/output/table.js';
import type { InstanceRecord, MalformedEntry } from '../../src/registry/entry.js';
import type { ChangeEvent } from '../../src/registry/watch.js';

function capture(color = false): { io: Io; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stdout = new PassThrough().on('data', (d) => (out += d));
  const stderr = new PassThrough().on('data', (d) => (err += d));
  const io: Io = { stdout, stderr, stdin: new PassThrough(), stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, color, stderrColor: color };
  return { io, out: () => out, err: () => err };
}

const record = (over: Partial<InstanceRecord> = {}): InstanceRecord => ({
  service_id: 'web-1',
  service_name: 'web',
  address: '10.0.0.5',
  port: 8080,
  tags: ['v1', 'canary'],
  metadata: { zone: 'a' },
  registered_at: Date.now() / 1000 - 90,
  key: '/services/web/web-1',
  lease: '694d7b6d4d1c3e0a',
  create_revision: 5,
  mod_revision: 7,
  ...over,
});

const malformed: MalformedEntry = {
  key: '/services/web/broken',
  service: 'web',
  id: 'broken',
  malformed: true,
  problem: 'value is not JSON',
  raw: 'hello',
  lease: null,
  create_revision: 3,
  mod_revision: 3,
};

describe('table printer', () => {
  it('prints services with counts and no colour when colour is off', async () => {
    const c = capture();
    (await printerFor('table', c.io)).services({ revision: 1, malformed: [], services: [{ service: 'web', instances: 2, healthy: 1, malformed: 0 }] });
    expect(c.out()).toBe('SERVICE  INSTANCES  HEALTHY\nweb      2          1\n');
  });

  it('adds a MALFORMED column only when some service has malformed entries', async () => {
    const c = capture();
    (await printerFor('table', c.io)).services({ revision: 1, malformed: [malformed], services: [{ service: 'web', instances: 1, healthy: 1, malformed: 1 }] });
    expect(c.out().split('\n')[0]).toBe('SERVICE  INSTANCES  HEALTHY  MALFORMED');
  });

  it('prints instances with address, tags, metadata and age', async () => {
    const c = capture();
    (await printerFor('table', c.io)).instances({ revision: 1, instances: [record()], malformed: [] }, false);
    expect(c.out()).toMatch(/^SERVICE +ID +ADDRESS +TAGS +METADATA +AGE\nweb +web-1 +10\.0\.0\.5:8080 +v1,canary +zone=a +(89|90|91)s\n$/);
  });

  it('adds a HEALTH column when some instance runs health checks', async () => {
    const c = capture();
    const checked = record({ key: '/services/web/web-2', service_id: 'web-2', health: { status: 'critical', output: 'HTTP 503', checked_at: 1 } });
    (await printerFor('table', c.io)).instances({ revision: 1, instances: [record(), checked], malformed: [] }, false);
    const [head, first, second] = c.out().split('\n');
    expect(head).toMatch(/ADDRESS +HEALTH +TAGS/);
    expect(first).toMatch(/web-1 +10\.0\.0\.5:8080 +- +v1/);
    expect(second).toMatch(/web-2 +10\.0\.0\.5:8080 +critical +v1/);
  });

  it('lists malformed entries among instances when asked', async () => {
    const c = capture();
    (await printerFor('table', c.io)).instances({ revision: 1, instances: [record()], malformed: [malformed] }, true);
    expect(c.out()).toMatch(/broken +MALFORMED +value is not JSON/);
  });

  it('colours only when colour is on', async () => {
    const plain = capture(false);
    const coloured = capture(true);
    const event: ChangeEvent = { type: 'PUT', key: '/services/web/web-1', service: 'web', id: 'web-1', revision: 9, instance: record(), prev: null };
    (await printerFor('table', plain.io)).watchEvent(event);
    (await printerFor('table', coloured.io)).watchEvent(event);
    expect(plain.out()).not.toMatch(/\u001b\[/);
    expect(coloured.out()).toMatch(/\u001b\[/);
  });

  it('a DELETE line names the instance that left', async () => {
    const c = capture();
    const event: ChangeEvent = { type: 'DELETE', key: '/services/web/web-1', service: 'web', id: 'web-1', revision: 10, instance: null, prev: record() };
    (await printerFor('table', c.io)).watchEvent(event);
    expect(c.out()).toBe('DELETE  web/web-1  10.0.0.5:8080  rev=10\n');
  });

  it('prints registration lifecycle messages other than "registered" on stderr', async () => {
    const c = capture();
    const p = await printerFor('table', c.io);
    p.registration({ event: 'registered', key: '/services/web/web-1', lease: 'a1', ttl: 30, instance: record() });
    p.registration({ event: 'lost', key: '/services/web/web-1', lease: 'a1', reason: 'expired' });
    expect(c.out()).toBe('registered /services/web/web-1 at 10.0.0.5:8080 (lease a1, ttl 30s)\n');
    expect(c.err()).toMatch(/registration lost: \/services\/web\/web-1/);
  });
});

describe('json printers', () => {
  it('json prints one array of instance objects with the stored fields at top level and key', async () => {
    const c = capture();
    (await printerFor('json', c.io)).instances({ revision: 1, instances: [record()], malformed: [malformed] }, false);
    const parsed = JSON.parse(c.out());
    expect(parsed).toHaveLength(1);
    expect(parsed[0]).toMatchObject({ service_id: 'web-1', service_name: 'web', address: '10.0.0.5', port: 8080, key: '/services/web/web-1' });
  });

  it('json flags malformed entries when listing everything', async () => {
    const c = capture();
    (await printerFor('json', c.io)).instances({ revision: 1, instances: [record()], malformed: [malformed] }, true);
    expect(JSON.parse(c.out())[0]).toMatchObject({ key: '/services/web/broken', malformed: true, problem: 'value is not JSON' });
  });

  it('streamed json is the same text as the whole array, page after page', async () => {
    const whole = capture();
    const streamed = capture();
    const a = record({ key: '/services/web/a', service_id: 'a' });
    const b = record({ key: '/services/web/b', service_id: 'b' });
    (await printerFor('json', whole.io)).instances({ revision: 1, instances: [a, b], malformed: [malformed] }, true);
    async function* pages() {
      yield { revision: 1, instances: [a], malformed: [] };
      yield { revision: 1, instances: [b], malformed: [malformed] };
    }
    const returned = await (await printerFor('json', streamed.io)).streamInstances(pages());
    expect(streamed.out()).toBe(whole.out());
    expect(returned).toEqual([malformed]);
  });

  it('a streamed json listing of nothing is an empty array', async () => {
    const c = capture();
    async function* pages() {
      yield { revision: 1, instances: [], malformed: [] };
    }
    await (await printerFor('json', c.io)).streamInstances(pages());
    expect(JSON.parse(c.out())).toEqual([]);
  });

  it('ndjson prints one object per line', async () => {
    const c = capture();
    (await printerFor('ndjson', c.io)).services({ revision: 1, malformed: [], services: [{ service: 'a', instances: 1, healthy: 1, malformed: 0 }, { service: 'b', instances: 2, healthy: 2, malformed: 0 }] });
    expect(c.out().trim().split('\n').map((l) => JSON.parse(l).service)).toEqual(['a', 'b']);
  });

  it('a watch event has type, key, service, id, revision, instance and prev', async () => {
    const c = capture();
    (await printerFor('ndjson', c.io)).watchEvent({ type: 'DELETE', key: '/services/web/web-1', service: 'web', id: 'web-1', revision: 10, instance: null, prev: record() });
    const e = JSON.parse(c.out());
    expect(Object.keys(e).slice(0, 7)).toEqual(['type', 'key', 'service', 'id', 'revision', 'instance', 'prev']);
    expect(e.prev.service_id).toBe('web-1');
  });
});

describe('addr printer', () => {
  it('prints host:port lines, bracketing IPv6 addresses', async () => {
    const c = capture();
    (await printerFor('addr', c.io)).instances({ revision: 1, instances: [record(), record({ address: 'fd00::1', port: 9 })], malformed: [] }, false);
    expect(c.out()).toBe('10.0.0.5:8080\n[fd00::1]:9\n');
  });
});

describe('age', () => {
  it.each([
    [30, '30s'],
    [600, '10m'],
    [3 * 3600, '3h'],
    [3 * 86400, '3d'],
  ])('%d seconds ago is %s', (ago, text) => {
    expect(age(1000_000 - ago, 1000_000)).toBe(text);
  });
});
