// Listings larger than gRPC's 4 MB default: complete, one consistent snapshot, every
// byte delivered through a pipe, paced by a reader that stops, and progress on a terminal only.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN, cliEnv, runCli } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { startCliOnTty } from '../harness/tty.js';

let etcd: EtcdCluster;
let raw: Etcd3;
let dir: string;
const COUNT = 30_000; // about 6 MB of keys and values
const value = (s: string, id: string) =>
  JSON.stringify({ service_id: id, service_name: s, address: '10.0.0.1', port: 8080, tags: ['v1'], metadata: { zone: 'a' }, registered_at: 1 });

beforeAll(async () => {
  etcd = await startEtcd();
  raw = new Etcd3({ hosts: etcd.endpoints, grpcOptions: { 'grpc.max_receive_message_length': -1 } });
  for (let i = 0; i < COUNT; i += 1000) {
    await Promise.all(Array.from({ length: 1000 }, (_, j) => raw.put(`/services/svc-${(i + j) % 40}/i-${i + j}`).value(value(`svc-${(i + j) % 40}`, `i-${i + j}`))));
  }
  dir = mkdtempSync(join(tmpdir(), 'svcreg-large-'));
}, 120_000);

afterAll(async () => {
  raw?.close();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Several MB through a pipe: output queued for a slow reader must not be cut off at exit.
it('list --instances -o ndjson delivers every instance through a pipe', async () => {
  const r = await runCli(['--endpoints', etcd.endpoints, 'list', '--instances', '-o', 'ndjson']);
  expect(r.code).toBe(0);
  expect(r.stdout.trim().split('\n')).toHaveLength(COUNT);
});

it('list --instances -o json is one complete array through a pipe, with nothing on stderr when it is not a terminal', async () => {
  const r = await runCli(['--endpoints', etcd.endpoints, 'list', '--instances', '-o', 'json']);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toHaveLength(COUNT);
  expect(r.stderr).toBe('');
});

it('list counts every instance of every service', async () => {
  const r = await runCli(['--endpoints', etcd.endpoints, 'list', '-o', 'json']);
  const rows = JSON.parse(r.stdout) as { instances: number }[];
  expect(rows).toHaveLength(40);
  expect(rows.every((row) => row.instances === COUNT / 40)).toBe(true);
});

it('a listing is one snapshot: keys added while it runs are either all in it (up to a revision) or not at all', async () => {
  // New keys land between existing ones in every service while the pages are read. A
  // listing that read each page at its own revision would hold later keys but miss
  // earlier ones; a snapshot holds exactly the keys created up to its revision.
  let writing = true;
  let n = 0;
  const writer = (async () => {
    while (writing) {
      await Promise.all(Array.from({ length: 20 }, () => {
        const i = n++;
        return raw.put(`/services/svc-${i % 40}/late-${i}`).value(value(`svc-${i % 40}`, `late-${i}`));
      }));
    }
  })();
  let listing: { key: string; create_revision: number }[];
  try {
    await new Promise((r) => setTimeout(r, 200));
    const r = await runCli(['--endpoints', etcd.endpoints, 'list', '--instances', '-o', 'ndjson']);
    expect(r.code).toBe(0);
    listing = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  } finally {
    writing = false;
    await writer;
  }
  const newest = Math.max(...listing.map((i) => i.create_revision));
  const all = await raw.getAll().prefix('/services/').exec();
  const expected = all.kvs.filter((kv) => Number(kv.create_revision) <= newest).map((kv) => kv.key.toString());
  const late = listing.filter((i) => i.key.includes('/late-')).length;
  expect(late, 'no key was written during the listing; the test proves nothing').toBeGreaterThan(0);
  expect(all.kvs.length, 'no key was written after the listing began').toBeGreaterThan(listing.length);
  expect(listing.map((i) => i.key).sort()).toEqual(expected.sort());
});

const rangesServed = () => etcd.members[0].rangesServed();

/**
 * 22,000 instances of 1 KB under `prefix`: the first page's output (1,000 lines, 1 MB) is
 * more than a pipe holds, so a listing meets a full pipe on its first page; 3 pages in all.
 */
async function seedLarge(prefix: string): Promise<number> {
  const count = 22_000;
  const big = (i: number) => JSON.stringify({ ...JSON.parse(value('paced', `p-${i}`)), metadata: { blob: 'x'.repeat(1000) } });
  for (let i = 0; i < count; i += 1000) await Promise.all(Array.from({ length: 1000 }, (_, j) => raw.put(`${prefix}paced/p-${i + j}`).value(big(i + j))));
  return count;
}

/** `list --instances -o ndjson` under `prefix` with nobody reading its stdout until `read()`. */
function unreadListing(prefix: string) {
  const args = ['--endpoints', etcd.endpoints, '--prefix', prefix, 'list', '--instances', '-o', 'ndjson'];
  const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.stdout.pause(); // nothing is read: the pipe fills
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  return {
    child,
    async read() {
      const chunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.stdout.resume();
      const code = await exited;
      return { code, lines: Buffer.concat(chunks).toString().trim().split('\n'), stderr };
    },
  };
}

it('a listing whose reader stops reading waits for it: it reads no further from etcd, then ends complete', async () => {
  const count = await seedLarge('/paced/');
  const before = await rangesServed();
  const listing = unreadListing('/paced/');
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const whileStopped = (await rangesServed()) - before;
    const r = await listing.read();
    const inAll = (await rangesServed()) - before;
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(count);
    expect(inAll, 'the listing took fewer than 3 pages; the test proves nothing').toBeGreaterThanOrEqual(3);
    // The first page, and the next one asked for as the first arrived: never the rest.
    expect(whileStopped).toBe(2);
  } finally {
    if (listing.child.exitCode === null) listing.child.kill('SIGKILL');
  }
}, 120_000);

it('a listing paused until etcd compacts its revision stops with an error that says so, not a partial listing that looks whole', async () => {
  const count = await seedLarge('/compacted/');
  const before = await rangesServed();
  const listing = unreadListing('/compacted/');
  try {
    for (let i = 0; i < 100 && (await rangesServed()) - before < 2; i++) await new Promise((r) => setTimeout(r, 100));
    const revision = Number((await raw.put('/elsewhere/k').value('v').exec()).header.revision);
    await raw.kv.compact({ revision, physical: true });
    const r = await listing.read();
    expect(r.code).toBe(1);
    expect(r.lines.length).toBeLessThan(count);
    expect(r.stderr).toMatch(/revision \d+ was compacted before the listing's last page was read.*write it to a file/);
  } finally {
    if (listing.child.exitCode === null) listing.child.kill('SIGKILL');
  }
}, 120_000);

it('Ctrl-C stops a listing whose reader is not reading at once, exit 130, without waiting for the reader', async () => {
  await seedLarge('/interrupted/');
  const listing = unreadListing('/interrupted/');
  try {
    await new Promise((r) => setTimeout(r, 1500)); // the pipe is full by now
    const signalled = Date.now();
    listing.child.kill('SIGINT');
    const code = await new Promise((resolve) => listing.child.once('exit', resolve));
    expect(code).toBe(130);
    expect(Date.now() - signalled).toBeLessThan(2000);
  } finally {
    if (listing.child.exitCode === null) listing.child.kill('SIGKILL');
  }
}, 120_000);

it('on a terminal, a listing that takes a while shows progress on stderr and keeps the file pure JSON', async () => {
  const file = join(dir, 'all.json');
  // etcd frozen for a second makes the listing slow, however fast this machine is.
  const member = etcd.members[0];
  member.freeze();
  let p;
  try {
    p = startCliOnTty(['--endpoints', etcd.endpoints, 'list', '--instances', '-o', 'json'], {}, { stdoutFile: file });
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    member.thaw();
  }
  const r = await p.exited;
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/reading \/services\//);
  expect(JSON.parse(readFileSync(file, 'utf8')).length).toBeGreaterThanOrEqual(COUNT);
});

it('on a terminal, purge --all --yes shows how many keys it has deleted; stdout stays data', async () => {
  const file = join(dir, 'purged.json');
  const p = startCliOnTty(['--endpoints', etcd.endpoints, 'purge', '--all', '--yes', '-o', 'json'], {}, { stdoutFile: file });
  const r = await p.exited;
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/deleted [\d,]+ of [\d,]+ entries under \/services\//);
  const result = JSON.parse(readFileSync(file, 'utf8'));
  expect(result.deleted.length).toBeGreaterThanOrEqual(COUNT);
  expect(result.skipped).toEqual([]);
  expect((await raw.getAll().prefix('/services/').count())).toBe(0);
}, 120_000);
