/**
 * End to end: the built CLI (bin/svcreg.js -> the bundle in dist/cli/) as a real child process against
 * one real etcd. Each test works under its own --prefix; data svcreg did not write
 * (seed-format values, malformed values, keys at the wrong depth) is put into etcd
 * directly with etcd3.
 */
import { createServer, type Server } from 'node:net';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../src/registry/instance.js';
import { runCli, startCli, type CliResult } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';

let etcd: EtcdCluster;
let client: Etcd3;
let blackhole: Server;
let blackholeEndpoint: string;

/** Nothing listens on port 1 of the loopback interface: connections are refused at once. */
const REFUSED = 'http://127.0.0.1:1';

/** Starts a TCP server that accepts connections and never answers; counts them. */
async function silentServer(): Promise<{ server: Server; endpoint: string; connections: () => number }> {
  let count = 0;
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  // Closing the server also drops the connections it still holds.
  const close = server.close.bind(server);
  server.close = ((cb?: (err?: Error) => void) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  }) as typeof server.close;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, endpoint: `http://127.0.0.1:${port}`, connections: () => count };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

beforeAll(async () => {
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.endpoints });
  const bh = await silentServer();
  blackhole = bh.server;
  blackholeEndpoint = bh.endpoint;
});

afterAll(async () => {
  client?.close();
  if (blackhole) await closeServer(blackhole);
  await etcd?.stop();
});

let counter = 0;
/** A prefix no other test uses. */
function freshPrefix(): string {
  return `/t-${process.pid}-${++counter}/`;
}

/** Runs the CLI against the test etcd under `prefix`. */
function svcreg(prefix: string, ...args: string[]): Promise<CliResult> {
  return runCli(['--endpoints', etcd.endpoints, '--prefix', prefix, ...args]);
}

function startSvcreg(prefix: string, ...args: string[]) {
  return startCli(['--endpoints', etcd.endpoints, '--prefix', prefix, ...args]);
}

/** The seed's value, as its Python code writes it (svcreg's Instance type is exactly that). */
type SeedInstance = Instance;

function instance(service: string, id: string, extra: Partial<SeedInstance> = {}): SeedInstance {
  return {
    service_id: id,
    service_name: service,
    address: '10.0.0.1',
    port: 8080,
    tags: [],
    metadata: {},
    registered_at: 1764000000.123,
    ...extra,
  };
}

/** Writes a value straight into etcd; returns the revision of the write. */
async function put(key: string, value: string | object): Promise<number> {
  const res = await client.put(key).value(typeof value === 'string' ? value : JSON.stringify(value)).exec();
  return Number(res.header.revision);
}

/** Writes an instance of `service` under `prefix`; returns the revision of the write. */
function seed(prefix: string, service: string, id: string, extra: Partial<SeedInstance> = {}): Promise<number> {
  return put(`${prefix}${service}/${id}`, instance(service, id, extra));
}

async function del(key: string): Promise<number> {
  const res = await client.delete().key(key).exec();
  return Number(res.header.revision);
}

async function currentRevision(): Promise<number> {
  const res = await client.get('/svcreg-e2e-probe').exec();
  return Number(res.header.revision);
}

async function keysUnder(prefix: string): Promise<string[]> {
  return (await client.getAll().prefix(prefix).keys()).sort();
}

async function exists(key: string): Promise<boolean> {
  return (await client.get(key).string()) !== null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** stderr without trailing newline, as lines. */
function stderrLines(r: { stderr: string }): string[] {
  return r.stderr.split('\n').filter((l) => l.trim() !== '');
}

/** No JavaScript stack frame in the output. */
function expectNoStackTrace(text: string): void {
  expect(text).not.toMatch(/^\s+at .+[:(]/m);
  expect(text).not.toMatch(/node:internal|triggerUncaughtException/);
}

function describeResult(r: CliResult): string {
  return `code=${r.code} signal=${r.signal} ms=${r.ms}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

function ndjson(text: string): Record<string, any>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

// ---------------------------------------------------------------------------
describe('list', () => {
  it('list prints one table row per service with its instance count', async () => {
    const p = freshPrefix();
    await seed(p, 'foo', 'a');
    await seed(p, 'foo', 'b');
    await seed(p, 'bar', 'c');
    const r = await svcreg(p, 'list');
    expect(r.code, describeResult(r)).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    expect(rows[0]).toEqual(['SERVICE', 'INSTANCES', 'HEALTHY', 'MALFORMED']);
    expect(rows.slice(1).sort()).toEqual([
      ['bar', '1', '1', '0'],
      ['foo', '2', '2', '0'],
    ]);
  });

  it('list -o json prints {service, instances, malformed} rows', async () => {
    const p = freshPrefix();
    await seed(p, 'foo', 'a');
    await seed(p, 'foo', 'b');
    await put(`${p}foo/broken`, 'not json at all');
    await seed(p, 'bar', 'c');
    const r = await svcreg(p, 'list', '-o', 'json');
    expect(r.code, describeResult(r)).toBe(0);
    const rows = JSON.parse(r.stdout) as { service: string; instances: number; malformed: number }[];
    const byService = Object.fromEntries(rows.map((row) => [row.service, row]));
    expect(Object.keys(byService).sort()).toEqual(['bar', 'foo']);
    expect(byService.foo).toMatchObject({ service: 'foo', instances: 2, malformed: 1 });
    expect(byService.bar).toMatchObject({ service: 'bar', instances: 1, malformed: 0 });
  });

  it('list --instances -o json gives the stored fields at top level plus key', async () => {
    const p = freshPrefix();
    const stored = instance('web', 'web-1', {
      address: '192.168.1.10',
      port: 5001,
      tags: ['v1', 'primary'],
      metadata: { zone: 'a', version: '1.0.0' },
      health: 'passing',
    });
    await put(`${p}web/web-1`, stored);
    await seed(p, 'db', 'db-1');
    const r = await svcreg(p, 'list', '--instances', '-o', 'json');
    expect(r.code, describeResult(r)).toBe(0);
    const items = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(items.map((i) => i.key).sort()).toEqual([`${p}db/db-1`, `${p}web/web-1`]);
    const web = items.find((i) => i.key === `${p}web/web-1`)!;
    expect(web).toMatchObject({ ...stored, key: `${p}web/web-1` });
    expect(web.malformed).toBeFalsy();
  });

  it('list --instances -o json flags malformed entries (malformed: true, problem) without aborting the listing', async () => {
    const p = freshPrefix();
    await seed(p, 'foo', 'good');
    await put(`${p}foo/notjson`, '{this is not json');
    await put(`${p}foo/lacking`, JSON.stringify({ service_id: 'lacking' }));
    await put(`${p}foo/too/deep`, JSON.stringify(instance('foo', 'deep')));
    await seed(p, 'zzz', 'after');
    const r = await svcreg(p, 'list', '--instances', '-o', 'json');
    expect(r.code, describeResult(r)).toBe(0);
    const items = JSON.parse(r.stdout) as Record<string, unknown>[];
    const byKey = Object.fromEntries(items.map((i) => [i.key as string, i]));
    expect(Object.keys(byKey).sort()).toEqual([`${p}foo/good`, `${p}foo/lacking`, `${p}foo/notjson`, `${p}foo/too/deep`, `${p}zzz/after`]);
    for (const bad of [`${p}foo/notjson`, `${p}foo/lacking`, `${p}foo/too/deep`]) {
      expect(byKey[bad].malformed, bad).toBe(true);
      expect(typeof byKey[bad].problem, bad).toBe('string');
      expect((byKey[bad].problem as string).length, bad).toBeGreaterThan(0);
    }
    expect(byKey[`${p}foo/good`]).toMatchObject({ service_name: 'foo', service_id: 'good', port: 8080 });
    expect(byKey[`${p}zzz/after`]).toMatchObject({ service_name: 'zzz', service_id: 'after' });
  });

  it('list warns about malformed entries on stderr while stdout stays valid JSON', async () => {
    const p = freshPrefix();
    await seed(p, 'foo', 'good');
    await put(`${p}foo/garbage`, '\u0000\u0001binary?');
    for (const args of [
      ['list', '-o', 'json'],
      ['list', '--instances', '-o', 'json'],
    ]) {
      const r = await svcreg(p, ...args);
      expect(r.code, describeResult(r)).toBe(0);
      expect(() => JSON.parse(r.stdout), r.stdout).not.toThrow();
      expect(r.stderr).toContain(`${p}foo/garbage`);
      expect(r.stderr).toMatch(/malformed/i);
      expect(r.stdout).not.toMatch(/warning/i);
    }
  });
});

// ---------------------------------------------------------------------------
describe('foreign data under the prefix', () => {
  it('list, discover and watch report keys at the wrong depth, mistyped fields and a 1 MB non-JSON value, and carry on; purge --malformed removes exactly those', async () => {
    const p = freshPrefix();
    const from = (await put(`${p}web/good`, instance('web', 'good'))) + 1;
    const hostile: [string, string][] = [
      [`${p}web`, JSON.stringify(instance('web', 'x'))], // no id segment
      [`${p}web/a/b`, JSON.stringify(instance('web', 'a'))], // one segment too many
      [`${p}web/typed`, JSON.stringify({ ...instance('web', 'typed'), port: '8080', tags: 'v1' })],
      [`${p}web/huge`, `<${'x'.repeat(1024 * 1024)}>`],
    ];
    for (const [key, value] of hostile) await put(key, value);
    await put(`${p}web/later`, instance('web', 'later'));
    const bad = hostile.map(([key]) => key).sort();

    const listed = await svcreg(p, 'list', '--instances', '-o', 'json');
    expect(listed.code, describeResult(listed)).toBe(0);
    const items = JSON.parse(listed.stdout) as { key: string; malformed?: boolean; raw?: string }[];
    expect(items.filter((i) => i.malformed).map((i) => i.key).sort()).toEqual(bad);
    expect(items.filter((i) => !i.malformed).map((i) => i.key).sort()).toEqual([`${p}web/good`, `${p}web/later`]);
    expect(items.find((i) => i.key === `${p}web/huge`)!.raw!.length).toBeLessThan(1100);

    const found = await svcreg(p, 'discover', 'web', '-o', 'addr');
    expect(found.code, describeResult(found)).toBe(0);
    expect(found.stdout).toBe('10.0.0.1:8080\n10.0.0.1:8080\n');
    expect(found.stderr).toMatch(/malformed/);

    const watched = await svcreg(p, 'watch', '--rev', String(from), '--count', '5', '-o', 'ndjson');
    expect(watched.code, describeResult(watched)).toBe(0);
    const events = watched.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; problem?: string });
    expect(events.map((e) => e.key)).toEqual([...hostile.map(([key]) => key), `${p}web/later`]);
    expect(events.filter((e) => e.problem).map((e) => e.key).sort()).toEqual(bad);

    const plan = await svcreg(p, 'purge', '--all', '--malformed', '--dry-run', '-o', 'json');
    expect((JSON.parse(plan.stdout) as { key: string }[]).map((e) => e.key).sort()).toEqual(bad);
    expect((await keysUnder(p)).length).toBe(6);
    const purged = await svcreg(p, 'purge', '--all', '--malformed', '--yes');
    expect(purged.code, describeResult(purged)).toBe(0);
    expect(await keysUnder(p)).toEqual([`${p}web/good`, `${p}web/later`]);
  });
});

// ---------------------------------------------------------------------------
describe('discover', () => {
  it('discover foo never returns instances of foobar', async () => {
    const p = freshPrefix();
    await seed(p, 'foo', 'a');
    await seed(p, 'foobar', 'b');
    await seed(p, 'foo-x', 'c');
    await seed(p, 'fo', 'd');
    const r = await svcreg(p, 'discover', 'foo', '-o', 'json');
    expect(r.code, describeResult(r)).toBe(0);
    const items = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(items.map((i) => i.key)).toEqual([`${p}foo/a`]);
    expect(items.every((i) => i.service_name === 'foo')).toBe(true);
  });

  it('discover --tag keeps only instances carrying every given tag', async () => {
    const p = freshPrefix();
    await seed(p, 'web', 'both', { tags: ['v1', 'blue'] });
    await seed(p, 'web', 'v1only', { tags: ['v1'] });
    await seed(p, 'web', 'blueonly', { tags: ['v2', 'blue'] });
    const one = await svcreg(p, 'discover', 'web', '--tag', 'v1', '-o', 'json');
    expect(one.code, describeResult(one)).toBe(0);
    expect((JSON.parse(one.stdout) as { service_id: string }[]).map((i) => i.service_id).sort()).toEqual(['both', 'v1only']);
    const two = await svcreg(p, 'discover', 'web', '--tag', 'v1', '--tag', 'blue', '-o', 'json');
    expect(two.code, describeResult(two)).toBe(0);
    expect((JSON.parse(two.stdout) as { service_id: string }[]).map((i) => i.service_id)).toEqual(['both']);
  });

  it('discover --meta k=v keeps only instances matching every pair', async () => {
    const p = freshPrefix();
    await seed(p, 'web', 'a-web', { metadata: { zone: 'a', tier: 'web' } });
    await seed(p, 'web', 'a-db', { metadata: { zone: 'a', tier: 'db' } });
    await seed(p, 'web', 'b-web', { metadata: { zone: 'b', tier: 'web' } });
    const one = await svcreg(p, 'discover', 'web', '--meta', 'zone=a', '-o', 'json');
    expect(one.code, describeResult(one)).toBe(0);
    expect((JSON.parse(one.stdout) as { service_id: string }[]).map((i) => i.service_id).sort()).toEqual(['a-db', 'a-web']);
    const two = await svcreg(p, 'discover', 'web', '--meta', 'zone=a', '--meta', 'tier=web', '-o', 'json');
    expect(two.code, describeResult(two)).toBe(0);
    expect((JSON.parse(two.stdout) as { service_id: string }[]).map((i) => i.service_id)).toEqual(['a-web']);
  });

  it('discover -o addr prints one host:port line per instance', async () => {
    const p = freshPrefix();
    await seed(p, 'web', 'one', { address: '10.1.0.1', port: 8001 });
    await seed(p, 'web', 'two', { address: '10.1.0.2', port: 8002 });
    const r = await svcreg(p, 'discover', 'web', '-o', 'addr');
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['10.1.0.1:8001', '10.1.0.2:8002']);
    expect(r.stdout.endsWith('\n')).toBe(true);
  });

  it('discover --pick first prints exactly one instance', async () => {
    const p = freshPrefix();
    await seed(p, 'web', 'one', { address: '10.2.0.1', port: 9001 });
    await seed(p, 'web', 'two', { address: '10.2.0.2', port: 9002 });
    await seed(p, 'web', 'three', { address: '10.2.0.3', port: 9003 });
    const [a, b] = await Promise.all([
      svcreg(p, 'discover', 'web', '-o', 'addr', '--pick', 'first'),
      svcreg(p, 'discover', 'web', '-o', 'addr', '--pick', 'first'),
    ]);
    for (const r of [a, b]) {
      expect(r.code, describeResult(r)).toBe(0);
      const lines = r.stdout.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(['10.2.0.1:9001', '10.2.0.2:9002', '10.2.0.3:9003']).toContain(lines[0]);
    }
    // "first" is a stable choice.
    expect(a.stdout).toBe(b.stdout);
  });

  it('discover --pick random prints exactly one of the instances', async () => {
    const p = freshPrefix();
    await seed(p, 'web', 'one', { address: '10.3.0.1', port: 9001 });
    await seed(p, 'web', 'two', { address: '10.3.0.2', port: 9002 });
    const json = await svcreg(p, 'discover', 'web', '-o', 'json', '--pick', 'random');
    expect(json.code, describeResult(json)).toBe(0);
    const picked = JSON.parse(json.stdout) as { service_id: string }[];
    expect(picked).toHaveLength(1);
    expect(['one', 'two']).toContain(picked[0].service_id);
    const addr = await svcreg(p, 'discover', 'web', '-o', 'addr', '--pick', 'random');
    expect(addr.code, describeResult(addr)).toBe(0);
    const lines = addr.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(['10.3.0.1:9001', '10.3.0.2:9002']).toContain(lines[0]);
  });

  it('discover exits 4 when nothing matches', async () => {
    const p = freshPrefix();
    await seed(p, 'web', 'one', { tags: ['v1'] });
    const filtered = await svcreg(p, 'discover', 'web', '--tag', 'v9', '-o', 'addr');
    expect(filtered.code, describeResult(filtered)).toBe(4);
    expect(filtered.stdout).toBe('');
    const absent = await svcreg(p, 'discover', 'nosuchservice', '-o', 'addr');
    expect(absent.code, describeResult(absent)).toBe(4);
    expect(absent.stdout).toBe('');
  });

  it("discover reads values written in the seed's Python format unchanged", async () => {
    const p = freshPrefix();
    // json.dumps() output of the seed's Python registrant: ", " and ": " separators, float registered_at.
    const python =
      '{"service_id": "user-service-001", "service_name": "user-service", "address": "192.168.1.10", "port": 5001, ' +
      '"tags": ["v1", "primary"], "metadata": {"version": "1.0.0", "zone": "us-east-1a"}, "registered_at": 1764000000.123}';
    await put(`${p}user-service/user-service-001`, python);
    const withHealth =
      '{"service_id":"user-service-002","service_name":"user-service","address":"192.168.1.11","port":5002,' +
      '"tags":[],"metadata":{},"registered_at":1764000000.5,"health":"passing"}';
    await put(`${p}user-service/user-service-002`, withHealth);
    const r = await svcreg(p, 'discover', 'user-service', '-o', 'json');
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stderr).not.toMatch(/malformed/i);
    const items = JSON.parse(r.stdout) as Record<string, unknown>[];
    const byId = Object.fromEntries(items.map((i) => [i.service_id as string, i]));
    expect(Object.keys(byId).sort()).toEqual(['user-service-001', 'user-service-002']);
    expect(byId['user-service-001']).toMatchObject({ ...JSON.parse(python), key: `${p}user-service/user-service-001` });
    expect(byId['user-service-001'].registered_at).toBe(1764000000.123);
    expect(byId['user-service-002']).toMatchObject({ ...JSON.parse(withHealth), key: `${p}user-service/user-service-002` });
    const addr = await svcreg(p, 'discover', 'user-service', '-o', 'addr');
    expect(addr.stdout.split('\n').filter(Boolean).sort()).toEqual(['192.168.1.10:5001', '192.168.1.11:5002']);
  });

  it('discover reports a non-JSON value under the service on stderr and still prints the valid instances', async () => {
    const p = freshPrefix();
    await seed(p, 'web', 'good', { address: '10.4.0.1', port: 7000 });
    await put(`${p}web/bad`, 'definitely not json');
    const json = await svcreg(p, 'discover', 'web', '-o', 'json');
    expect(json.code, describeResult(json)).toBe(0);
    const items = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(items.filter((i) => !i.malformed).map((i) => i.service_id)).toEqual(['good']);
    expect(json.stderr).toContain(`${p}web/bad`);
    expectNoStackTrace(json.stderr);
    const addr = await svcreg(p, 'discover', 'web', '-o', 'addr');
    expect(addr.code, describeResult(addr)).toBe(0);
    expect(addr.stdout).toBe('10.4.0.1:7000\n');
    expect(addr.stderr).toContain(`${p}web/bad`);
  });
});

// ---------------------------------------------------------------------------
describe('discover --wait', () => {
  it('discover --wait returns once an instance registered after the wait started appears', async () => {
    const p = freshPrefix();
    await seed(p, 'other', 'x');
    // Resolves once etcd serves the CLI's watch: the instance below is written after that.
    const cli = await etcd.startWatching(() => startSvcreg(p, 'discover', 'late', '--wait', '--wait-timeout', '30s', '-o', 'json'));
    try {
      // Still waiting: nothing was there to find.
      expect(cli.child.exitCode, cli.stderr).toBeNull();
      await seed(p, 'late', 'newcomer', { address: '10.5.0.1', port: 6000 });
      const r = await Promise.race([cli.exited, sleep(15_000).then(() => null)]);
      expect(r, `still waiting; stderr: ${cli.stderr}`).not.toBeNull();
      expect(r!.code, describeResult(r!)).toBe(0);
      const items = JSON.parse(r!.stdout) as Record<string, unknown>[];
      expect(items.map((i) => i.key)).toEqual([`${p}late/newcomer`]);
      expect(items[0]).toMatchObject({ address: '10.5.0.1', port: 6000 });
    } finally {
      await cli.stop();
    }
  });

  it('discover --wait --min 2 waits for the second instance', async () => {
    const p = freshPrefix();
    const cli = await etcd.startWatching(() => startSvcreg(p, 'discover', 'pair', '--wait', '--min', '2', '--wait-timeout', '30s', '-o', 'json'));
    try {
      await seed(p, 'pair', 'first');
      await sleep(1500);
      expect(cli.child.exitCode, `returned with one instance: ${cli.stdout} ${cli.stderr}`).toBeNull();
      await seed(p, 'pair', 'second');
      const r = await Promise.race([cli.exited, sleep(15_000).then(() => null)]);
      expect(r, `still waiting; stderr: ${cli.stderr}`).not.toBeNull();
      expect(r!.code, describeResult(r!)).toBe(0);
      const ids = (JSON.parse(r!.stdout) as { service_id: string }[]).map((i) => i.service_id).sort();
      expect(ids).toEqual(['first', 'second']);
    } finally {
      await cli.stop();
    }
  });

  it('discover --wait-timeout 1s exits 4 after about a second', async () => {
    const p = freshPrefix();
    const r = await svcreg(p, 'discover', 'never', '--wait-timeout', '1s', '-o', 'addr');
    expect(r.code, describeResult(r)).toBe(4);
    expect(r.ms).toBeGreaterThanOrEqual(1000);
    expect(r.ms).toBeLessThan(10_000);
    expect(r.stdout).toBe('');
    expect(stderrLines(r)).toHaveLength(1);
    expectNoStackTrace(r.stderr);
  });
});

// ---------------------------------------------------------------------------
describe('watch', () => {
  const FIELDS = ['type', 'key', 'service', 'id', 'revision', 'instance', 'prev'];

  it('watch -o ndjson --count N prints PUT and DELETE objects with type, key, service, id, revision, instance, prev', async () => {
    const p = freshPrefix();
    const from = (await currentRevision()) + 1;
    const cli = startSvcreg(p, 'watch', '--rev', String(from), '--count', '3', '-o', 'ndjson');
    try {
      const r1 = await seed(p, 'web', 'a', { port: 1001 });
      const r2 = await seed(p, 'web', 'a', { port: 1002 });
      const r3 = await del(`${p}web/a`);
      const r = await Promise.race([cli.exited, sleep(15_000).then(() => null)]);
      expect(r, `watch did not exit after 3 events; stdout: ${cli.stdout} stderr: ${cli.stderr}`).not.toBeNull();
      expect(r!.code, describeResult(r!)).toBe(0);
      const events = ndjson(r!.stdout);
      expect(events).toHaveLength(3);
      for (const e of events) for (const f of FIELDS) expect(e, `${f} in ${JSON.stringify(e)}`).toHaveProperty(f);
      expect(events.map((e) => e.type)).toEqual(['PUT', 'PUT', 'DELETE']);
      expect(events.map((e) => e.revision)).toEqual([r1, r2, r3]);
      for (const e of events) expect(e).toMatchObject({ key: `${p}web/a`, service: 'web', id: 'a' });
      expect(events[0].instance).toMatchObject({ service_id: 'a', service_name: 'web', port: 1001 });
      expect(events[0].prev).toBeNull();
      expect(events[1].instance).toMatchObject({ port: 1002 });
      expect(events[1].prev).toMatchObject({ port: 1001 });
      expect(events[2].instance).toBeNull();
    } finally {
      await cli.stop();
    }
  });

  it("watch: a DELETE's prev names the instance that left", async () => {
    const p = freshPrefix();
    await seed(p, 'web', 'stays', { address: '10.6.0.1', port: 1 });
    await seed(p, 'web', 'leaves', { address: '10.6.0.2', port: 2, tags: ['bye'] });
    const from = (await currentRevision()) + 1;
    const cli = startSvcreg(p, 'watch', '--rev', String(from), '--count', '1', '-o', 'ndjson');
    try {
      await del(`${p}web/leaves`);
      const r = await Promise.race([cli.exited, sleep(15_000).then(() => null)]);
      expect(r, `watch did not exit; stdout: ${cli.stdout} stderr: ${cli.stderr}`).not.toBeNull();
      expect(r!.code, describeResult(r!)).toBe(0);
      const [e] = ndjson(r!.stdout);
      expect(e).toMatchObject({ type: 'DELETE', key: `${p}web/leaves`, service: 'web', id: 'leaves', instance: null });
      expect(e.prev).toMatchObject({ service_id: 'leaves', service_name: 'web', address: '10.6.0.2', port: 2, tags: ['bye'] });
    } finally {
      await cli.stop();
    }
  });

  it('watch --rev R replays history from revision R', async () => {
    const p = freshPrefix();
    await seed(p, 'hist', 'before'); // older than R: not replayed
    const r1 = await seed(p, 'hist', 'one');
    const r2 = await seed(p, 'hist', 'two');
    const r3 = await del(`${p}hist/one`);
    const r = await svcreg(p, 'watch', '--rev', String(r1), '--count', '3', '-o', 'ndjson');
    expect(r.code, describeResult(r)).toBe(0);
    const events = ndjson(r.stdout);
    expect(events.map((e) => [e.type, e.key, e.revision])).toEqual([
      ['PUT', `${p}hist/one`, r1],
      ['PUT', `${p}hist/two`, r2],
      ['DELETE', `${p}hist/one`, r3],
    ]);
    expect(events[2].prev).toMatchObject({ service_id: 'one' });
  });

  it('watch <service> shows only that service (not a prefix sibling)', async () => {
    const p = freshPrefix();
    const from = (await currentRevision()) + 1;
    await seed(p, 'foobar', 'x');
    await seed(p, 'bar', 'y');
    const ra = await seed(p, 'foo', 'a');
    await seed(p, 'foo-2', 'z');
    await del(`${p}foobar/x`);
    const rb = await seed(p, 'foo', 'b');
    // Without the filter, the third event would be foo-2's.
    const r = await svcreg(p, 'watch', 'foo', '--rev', String(from), '--count', '2', '-o', 'ndjson');
    expect(r.code, describeResult(r)).toBe(0);
    const events = ndjson(r.stdout);
    expect(events.map((e) => [e.type, e.key, e.service, e.revision])).toEqual([
      ['PUT', `${p}foo/a`, 'foo', ra],
      ['PUT', `${p}foo/b`, 'foo', rb],
    ]);
  });

  it('watch without --rev streams a change made after it started', async () => {
    const p = freshPrefix();
    await seed(p, 'live', 'old'); // already there: not an event
    const cli = startSvcreg(p, 'watch', 'live', '--count', '1', '-o', 'ndjson');
    try {
      // The watch is established some time after the process starts; keep writing until it sees one.
      const until = Date.now() + 20_000;
      let i = 0;
      while (cli.child.exitCode === null && Date.now() < until) {
        await seed(p, 'live', 'new', { port: 2000 + ++i });
        await sleep(300);
      }
      const r = await Promise.race([cli.exited, sleep(5000).then(() => null)]);
      expect(r, `watch did not exit; stdout: ${cli.stdout} stderr: ${cli.stderr}`).not.toBeNull();
      expect(r!.code, describeResult(r!)).toBe(0);
      const events = ndjson(r!.stdout);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ type: 'PUT', key: `${p}live/new`, service: 'live', id: 'new' });
      expect(events[0].instance.port).toBeGreaterThan(2000);
    } finally {
      await cli.stop();
    }
  });
});

// ---------------------------------------------------------------------------
describe('purge', () => {
  it('purge --dry-run deletes nothing and lists what it would delete', async () => {
    const p = freshPrefix();
    await seed(p, 'old', 'a');
    await seed(p, 'old', 'b');
    const json = await svcreg(p, 'purge', 'old', '--dry-run', '-o', 'json');
    expect(json.code, describeResult(json)).toBe(0);
    const plan = JSON.parse(json.stdout) as { key: string }[];
    expect(plan.map((e) => e.key).sort()).toEqual([`${p}old/a`, `${p}old/b`]);
    const table = await svcreg(p, 'purge', 'old', '--dry-run', '--yes');
    expect(table.code, describeResult(table)).toBe(0);
    expect(table.stdout).toContain(`${p}old/a`);
    expect(table.stdout).toContain(`${p}old/b`);
    expect(await keysUnder(p)).toEqual([`${p}old/a`, `${p}old/b`]);
  });

  it('purge without --yes refuses when not on a terminal and deletes nothing', async () => {
    const p = freshPrefix();
    await seed(p, 'old', 'a');
    await seed(p, 'old', 'b');
    const r = await svcreg(p, 'purge', 'old');
    expect(r.code, describeResult(r)).not.toBe(0);
    expect(r.code, describeResult(r)).not.toBeNull();
    expect(r.stderr).toMatch(/--yes/);
    expectNoStackTrace(r.stderr);
    expect(await keysUnder(p)).toEqual([`${p}old/a`, `${p}old/b`]);
  });

  it('purge <service> --yes deletes its entries and nothing in a sibling service or outside the prefix', async () => {
    const p = freshPrefix();
    const outside = `/outside-${process.pid}-${counter}/`;
    const lookalike = `${p.slice(0, -1)}x/foo/a`; // shares the prefix's characters, is outside it
    await seed(p, 'foo', 'a');
    await seed(p, 'foo', 'b');
    await put(`${p}foo/broken`, 'not json');
    await seed(p, 'foobar', 'c');
    await seed(outside, 'foo', 'a');
    await put(lookalike, JSON.stringify(instance('foo', 'a')));
    const r = await svcreg(p, 'purge', 'foo', '--yes');
    expect(r.code, describeResult(r)).toBe(0);
    expect(await keysUnder(p)).toEqual([`${p}foobar/c`]);
    expect(await exists(`${outside}foo/a`)).toBe(true);
    expect(await exists(lookalike)).toBe(true);
  });

  it('purge <service> --id deletes exactly that instance', async () => {
    const p = freshPrefix();
    await seed(p, 'foo', 'a');
    await seed(p, 'foo', 'ab'); // longer id sharing "a" as a prefix
    await seed(p, 'foo', 'b');
    const r = await svcreg(p, 'purge', 'foo', '--id', 'a', '--yes');
    expect(r.code, describeResult(r)).toBe(0);
    expect(await keysUnder(p)).toEqual([`${p}foo/ab`, `${p}foo/b`]);
  });

  it('purge --malformed deletes only malformed entries', async () => {
    const p = freshPrefix();
    await seed(p, 'foo', 'good');
    await put(`${p}foo/notjson`, 'nope');
    await put(`${p}foo/lacking`, JSON.stringify({ service_id: 'lacking' }));
    await put(`${p}foo/too/deep`, JSON.stringify(instance('foo', 'deep')));
    await seed(p, 'bar', 'good');
    await put(`${p}bar/bad`, '[1,2,3]');
    const r = await svcreg(p, 'purge', 'foo', '--malformed', '--yes');
    expect(r.code, describeResult(r)).toBe(0);
    expect(await keysUnder(p)).toEqual([`${p}bar/bad`, `${p}bar/good`, `${p}foo/good`]);
    const all = await svcreg(p, 'purge', '--all', '--malformed', '--yes');
    expect(all.code, describeResult(all)).toBe(0);
    expect(await keysUnder(p)).toEqual([`${p}bar/good`, `${p}foo/good`]);
  });

  it('purge --all --yes empties the prefix and leaves keys outside it alone', async () => {
    const p = freshPrefix();
    const other = `/other-${process.pid}-${counter}/x`;
    const lookalike = `${p.slice(0, -1)}zz/keep/me`;
    await seed(p, 'foo', 'a');
    await seed(p, 'bar', 'b');
    await put(`${p}baz/broken`, 'not json');
    await put(`${p}stray`, 'a key at the wrong depth');
    await put(other, 'keep me');
    await put(lookalike, 'keep me too');
    const r = await svcreg(p, 'purge', '--all', '--yes');
    expect(r.code, describeResult(r)).toBe(0);
    expect(await keysUnder(p)).toEqual([]);
    expect(await client.get(other).string()).toBe('keep me');
    expect(await client.get(lookalike).string()).toBe('keep me too');
  });
});

// ---------------------------------------------------------------------------
// Each case gets its own silent server as the endpoint, with a long --timeout: a request
// would either show up as a connection or hang for 30 s. Exit 2, fast, with no
// connection means nothing was sent.
describe.concurrent('invalid input exits 2 before any request', () => {
  const cases: [string, string[]][] = [
    ['an empty service name', ['discover', '']],
    ['the service name "."', ['discover', '.']],
    ['the service name ".."', ['discover', '..']],
    ['a service name with "/"', ['discover', 'a/b']],
    ['a service name with a control character', ['discover', 'a\u0001b']],
    ['a 300-character service name', ['discover', 'a'.repeat(300)]],
    ['a bad service name for register', ['register', 'a/b', '--port', '80']],
    ['a bad service name for purge', ['purge', '..', '--yes']],
    ['a bad service name for watch', ['watch', 'a/b']],
    ['a bad instance id for purge', ['purge', 'foo', '--id', 'x/y', '--yes']],
    ['register --port 0', ['register', 'web', '--port', '0']],
    ['register --port 70000', ['register', 'web', '--port', '70000']],
    ['register --port abc', ['register', 'web', '--port', 'abc']],
    ['discover --meta without "="', ['discover', 'web', '--meta', 'zone']],
    ['register --meta without "="', ['register', 'web', '--port', '80', '--meta', 'zone']],
    ['an unknown -o format', ['list', '-o', 'xml']],
    ['a malformed --timeout', ['list', '--timeout', '5x']],
    ['an unknown global option', ['--bogus', 'list']],
    ['an unknown command option', ['list', '--bogus']],
    ['a missing required argument', ['discover']],
    ['an unknown command', ['lsit']],
    ['register --ttl 0', ['register', 'web', '--port', '80', '--ttl', '0']],
    ['register --ttl -5', ['register', 'web', '--port', '80', '--ttl', '-5']],
    ['register --ttl abc', ['register', 'web', '--port', '80', '--ttl', 'abc']],
    ['register --check-interval that does not parse', ['register', 'web', '--port', '80', '--check-tcp', '127.0.0.1:80', '--check-interval', '5parsecs']],
    ['register --drain that does not parse', ['register', 'web', '--port', '80', '--drain', 'soon']],
    ['discover --wait-timeout that does not parse', ['discover', 'web', '--wait', '--wait-timeout', '1 minute']],
    ['an ftp:// endpoint', ['--endpoints', 'ftp://127.0.0.1:2379', 'list']],
    ['a unix:// endpoint', ['--endpoints', 'unix:///var/run/etcd.sock', 'list']],
    ['an endpoint with a path', ['--endpoints', 'http://127.0.0.1:2379/v3', 'list']],
    ['a --prefix without a leading slash', ['--prefix', 'services/', 'list']],
    ['a --prefix without a trailing slash (it would also match /services-old/)', ['--prefix', '/services', 'list']],
    ['purge under the prefix "/"', ['--prefix', '/', 'purge', '--all', '--yes']],
    ['an instance id with DEL', ['register', 'web', '--id', 'a\u007fb', '--port', '80']],
    ['a service name with an escape sequence', ['register', 'web\u001b[31m', '--port', '80']],
    // Linux passes at most 128 KiB per argument: 14 of 120 KB make 1.6 MB of metadata.
    ['metadata beyond etcd\'s 1.5 MiB request limit', ['register', 'web', '--port', '80', ...Array.from({ length: 14 }, (_, i) => ['--meta', `k${i}=${'x'.repeat(120_000)}`]).flat()]],
  ];

  it.each(cases)('rejects %s with exit 2, fast, sending nothing', async (_what, args) => {
    const sentinel = await silentServer();
    try {
      // The long --timeout comes first: a --timeout inside args (the malformed one) wins.
      const r = await runCli(['--endpoints', sentinel.endpoint, '--timeout', '30s', ...args], {}, 20_000);
      expect(r.code, describeResult(r)).toBe(2);
      expect(r.ms).toBeLessThan(10_000);
      expect(sentinel.connections(), 'the CLI connected to the endpoint').toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().length).toBeGreaterThan(0);
      expectNoStackTrace(r.stderr);
    } finally {
      await closeServer(sentinel.server);
    }
  });

  it('control: a valid command does reach the silent endpoint (so "sending nothing" above is observable)', async () => {
    const sentinel = await silentServer();
    try {
      const r = await runCli(['--endpoints', sentinel.endpoint, '--timeout', '1s', 'discover', 'web'], {}, 20_000);
      expect(r.code, describeResult(r)).toBe(3);
      expect(sentinel.connections()).toBeGreaterThan(0);
    } finally {
      await closeServer(sentinel.server);
    }
  });

  it('rejects bad input with exit 2 even when the endpoint refuses connections', async () => {
    const r = await runCli(['--endpoints', REFUSED, '--timeout', '30s', 'discover', 'a/b'], {}, 20_000);
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.ms).toBeLessThan(10_000);
  });
});

// ---------------------------------------------------------------------------
const COMMANDS: [string, string[]][] = [
  ['list', ['list']],
  ['list --instances', ['list', '--instances']],
  ['discover', ['discover', 'web']],
  ['discover --wait', ['discover', 'web', '--wait']],
  ['watch', ['watch']],
  ['watch <service>', ['watch', 'web']],
  ['watch --rev 1', ['watch', '--rev', '1']],
  ['purge --yes', ['purge', 'web', '--yes']],
  ['purge --all --dry-run', ['purge', '--all', '--dry-run']],
  ['register', ['register', 'web', '--id', 'web-1', '--port', '8080', '--address', '10.0.0.1']],
];

function expectUnreachableExit(r: CliResult): void {
  expect(r.code, describeResult(r)).toBe(3);
  // --timeout 1s: well within its timeout plus Node's start-up on a busy machine.
  expect(r.ms, describeResult(r)).toBeLessThan(10_000);
  expect(stderrLines(r), describeResult(r)).toHaveLength(1);
  expect(r.stderr).toMatch(/^svcreg: /);
  expectNoStackTrace(r.stderr);
  expect(r.stdout).toBe('');
}

describe.concurrent('unreachable etcd (connection refused) exits 3 within --timeout', () => {
  it.each(COMMANDS)('%s against a refused endpoint exits 3 with one stderr line', async (_name, args) => {
    const r = await runCli(['--endpoints', REFUSED, '--timeout', '1s', '--prefix', freshPrefix(), ...args], {}, 15_000);
    expectUnreachableExit(r);
  });
});

describe.concurrent('blackholed etcd (accepts, never answers) exits 3 within --timeout', () => {
  it.each(COMMANDS)('%s against a blackholed endpoint exits 3 with one stderr line', async (_name, args) => {
    const r = await runCli(['--endpoints', blackholeEndpoint, '--timeout', '1s', '--prefix', freshPrefix(), ...args], {}, 15_000);
    expectUnreachableExit(r);
  });
});

// ---------------------------------------------------------------------------
describe('errors', () => {
  it('an error is one line on stderr with no stack trace', async () => {
    const p = freshPrefix();
    const r = await svcreg(p, 'discover', 'absent');
    expect(r.code, describeResult(r)).toBe(4);
    expect(stderrLines(r)).toHaveLength(1);
    expect(r.stderr).toMatch(/^svcreg: .*absent/);
    expectNoStackTrace(r.stderr);
  });

  it('--debug adds a stack trace to an error', async () => {
    const r = await runCli(['--endpoints', REFUSED, '--timeout', '1s', '--debug', 'list'], {}, 15_000);
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stderr).toMatch(/^svcreg: error: /);
    expect(r.stderr).toMatch(/^\s+at .+/m);
  });
});
