import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Io } from '../../src/output/io.js';
import { printerFor } from '../../src/output/printers.js';
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
  it('prints services with counts, malformed ones included, and no colour when colour is off', async () => {
    const c = capture();
    (await printerFor('table', c.io)).services({ revision: 1, malformed: [], services: [{ service: 'web', instances: 2, healthy: 1, malformed: 0 }] });
    expect(c.out()).toBe('SERVICE  INSTANCES  HEALTHY  MALFORMED\nweb      2          1        0\n');
  });

  it('says "no services" on stderr for an empty registry, and prints no table', async () => {
    const c = capture();
    (await printerFor('table', c.io)).services({ revision: 1, malformed: [], services: [] });
    expect(c.out()).toBe('');
    expect(c.err()).toBe('svcreg: no services\n');
  });

  it('prints instances under the same columns whatever they hold', async () => {
    const c = capture();
    (await printerFor('table', c.io)).instances({ revision: 1, instances: [record()], malformed: [] }, false);
    expect(c.out()).toMatch(/^SERVICE +ID +ADDRESS +HEALTH +TAGS +METADATA +AGE +NOTE\nweb +web-1 +10\.0\.0\.5:8080 +- +v1,canary +zone=a +(89|90|91)s\n$/);
  });

  it('reads health as discover does: a "critical" string is critical', async () => {
    const c = capture();
    const checked = record({ key: '/services/web/web-2', service_id: 'web-2', health: 'critical' });
    const passing = record({ key: '/services/web/web-3', service_id: 'web-3', health: { status: 'passing', output: 'ok', checked_at: 1 } });
    (await printerFor('table', c.io)).instances({ revision: 1, instances: [record(), checked, passing], malformed: [] }, false);
    const [, first, second, third] = c.out().split('\n');
    expect(first).toMatch(/web-1 +10\.0\.0\.5:8080 +- +v1/);
    expect(second).toMatch(/web-2 +10\.0\.0\.5:8080 +critical +v1/);
    expect(third).toMatch(/web-3 +10\.0\.0\.5:8080 +passing +v1/);
  });

  it('marks an instance without a lease', async () => {
    const c = capture();
    (await printerFor('table', c.io)).instances({ revision: 1, instances: [record({ lease: null })], malformed: [] }, false);
    expect(c.out().split('\n')[1]).toMatch(/ +no lease$/);
  });

  it('lists malformed entries among instances when asked, the problem under NOTE', async () => {
    const c = capture();
    (await printerFor('table', c.io)).instances({ revision: 1, instances: [record()], malformed: [malformed] }, true);
    expect(c.out().split('\n')[1]).toMatch(/^web +broken +- +- +- +- +- +malformed: value is not JSON$/);
  });

  it('says "no instances" on stderr for an empty listing', async () => {
    const c = capture();
    async function* pages() {
      yield { revision: 1, instances: [], malformed: [] };
    }
    await (await printerFor('table', c.io)).streamInstances(pages());
    expect(c.out()).toBe('');
    expect(c.err()).toBe('svcreg: no instances\n');
  });

  it('-o wide adds the lease, its time left and the revisions', async () => {
    const c = capture();
    (await printerFor('wide', c.io)).instances({ revision: 1, instances: [record()], malformed: [] }, false);
    const [head, row] = c.out().split('\n');
    expect(head).toMatch(/AGE +LEASE +TTL +CREATE_REV +MOD_REV +NOTE$/);
    // The time left is read only when the registry was asked for it: `-` otherwise.
    expect(row).toMatch(/ 694d7b6d4d1c3e0a +- +5 +7$/);
  });

  it('prints the first page of a streamed table before the next is read', async () => {
    const c = capture();
    let release!: () => void;
    const second = new Promise<void>((r) => (release = r));
    async function* pages() {
      yield { revision: 1, instances: [record({ key: '/services/web/a', service_id: 'a' })], malformed: [] };
      await second;
      yield { revision: 1, instances: [record({ key: '/services/web/b', service_id: 'b' })], malformed: [] };
    }
    const done = (await printerFor('table', c.io)).streamInstances(pages());
    await new Promise((r) => setTimeout(r, 50));
    expect(c.out()).toMatch(/^SERVICE.*\nweb +a +/);
    release();
    await done;
    expect(c.out().trim().split('\n')).toHaveLength(3);
  });

  it('cuts a huge cell, so other lines are not padded to it', async () => {
    const c = capture();
    const huge = record({ key: '/services/web/big', service_id: 'big', metadata: { blob: 'x'.repeat(1_500_000) } });
    (await printerFor('table', c.io)).instances({ revision: 1, instances: [huge, record()], malformed: [] }, false);
    const lines = c.out().split('\n');
    expect(c.out().length).toBeLessThan(1000);
    expect(lines[1]).toMatch(/blob=x+… +\d+s +no lease$|blob=x+… +\d+s$/);
  });

  it('-o wide shows a huge cell whole, without padding the other lines to it', async () => {
    const c = capture();
    const huge = record({ key: '/services/web/big', service_id: 'big', metadata: { blob: 'x'.repeat(100_000) } });
    (await printerFor('wide', c.io)).instances({ revision: 1, instances: [huge, record()], malformed: [] }, false);
    const lines = c.out().split('\n');
    expect(lines[1]).toContain('x'.repeat(100_000));
    expect(lines[2].length).toBeLessThan(300);
  });

  it('escapes control characters in every cell', async () => {
    const c = capture();
    const evil = record({ tags: ['\u001b[2J\u001b[HALL GOOD'], metadata: { a: 'x\ny' }, service_id: 'w\u009b1' });
    (await printerFor('table', c.io)).instances({ revision: 1, instances: [evil], malformed: [] }, false);
    expect(c.out()).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(c.out().split('\n')).toHaveLength(3);
    expect(c.out()).toContain('\\x1b[2J\\x1b[HALL GOOD');
    expect(c.out()).toContain('a=x\\ny');
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
    expect(c.out()).toBe('DELETE  web/web-1  10.0.0.5:8080  -  rev=10\n');
  });

  it('a watch line shows health, and a PUT that flips it says what it was', async () => {
    const c = capture();
    const critical = record({ health: { status: 'critical', output: 'HTTP 503', checked_at: 2 } });
    const passing = record({ health: { status: 'passing', output: 'HTTP 200', checked_at: 1 } });
    (await printerFor('table', c.io)).watchEvent({ type: 'PUT', key: critical.key, service: 'web', id: 'web-1', revision: 11, instance: critical, prev: passing });
    expect(c.out()).toBe('PUT     web/web-1  10.0.0.5:8080  critical (was passing)  rev=11\n');
  });

  it('prints registration lifecycle messages other than "registered" on stderr', async () => {
    const c = capture();
    const p = await printerFor('table', c.io);
    p.registration({ event: 'registered', key: '/services/web/web-1', lease: 'a1', ttl: 30, instance: record() });
    p.registration({ event: 'lost', key: '/services/web/web-1', lease: 'a1', reason: 'expired' });
    expect(c.out()).toBe('registered /services/web/web-1 at 10.0.0.5:8080 (lease a1, ttl 30s)\n');
    expect(c.err()).toMatch(/registration lost: \/services\/web\/web-1/);
  });

  it('escapes control characters in stderr messages', async () => {
    const c = capture();
    (await printerFor('table', c.io)).registration({ event: 'health', key: '/services/web/web-1', status: 'critical', output: '\u001b]0;pwned\u0007\nfake line', checked_at: 1 });
    expect(c.err()).toBe('svcreg: /services/web/web-1 is critical (\\x1b]0;pwned\\x07\\nfake line)\n');
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

  it('json escapes C1 and bidi controls too, and parses to the same value', async () => {
    const c = capture();
    const evil = record({ metadata: { a: '\u009b2J\u202eevil\u007f' } });
    (await printerFor('json', c.io)).instances({ revision: 1, instances: [evil], malformed: [] }, false);
    expect(c.out()).not.toMatch(/[\u007f-\u009f\u202e]/);
    expect(JSON.parse(c.out())[0].metadata.a).toBe('\u009b2J\u202eevil\u007f');
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
