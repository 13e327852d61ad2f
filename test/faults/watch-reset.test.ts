/**
 * etcd restarted on a new data dir (a new, empty cluster on the same ports): the
 * history a watch resumes from is gone without any compaction saying so. `watch` and
 * `discover --wait` must notice (the revision went back, or the cluster ID changed),
 * resync, and deliver what is there now; then the new writes, exactly once, in order.
 *
 * SVCREG_TEST_BIN runs another build of the CLI (e.g. /tmp/oldmain/bin/svcreg.js) to
 * show these tests fail on it.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, CliProcess, cliEnv } from '../harness/cli.js';
import { startEtcd, type EtcdCluster, type EtcdMember } from '../harness/etcd.js';
import { TcpProxy } from '../harness/proxy.js';

const bin = process.env.SVCREG_TEST_BIN || BIN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const started: CliProcess[] = [];
const clusters: EtcdCluster[] = [];
const proxies: TcpProxy[] = [];

function cli(args: string[]): CliProcess {
  const p = new CliProcess(spawn(process.execPath, [bin, ...args], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
  started.push(p);
  return p;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await Promise.all(clusters.splice(0).map((c) => c.stop()));
});

async function etcd(): Promise<EtcdCluster> {
  const c = await startEtcd();
  clusters.push(c);
  return c;
}

const value = (service: string, id: string, port = 1) =>
  JSON.stringify({ service_id: id, service_name: service, address: '127.0.0.1', port, tags: [], metadata: {}, registered_at: 1 });

/** A PUT through the member's JSON gateway; returns the revision it made. */
function put(member: EtcdMember, key: string, val: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${member.clientUrl}/v3/kv/put`, { method: 'POST', timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(Number(JSON.parse(text).header.revision)) : reject(new Error(`put ${key}: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`put ${key}: timed out`)));
    req.end(JSON.stringify({ key: Buffer.from(key).toString('base64'), value: Buffer.from(val).toString('base64') }));
  });
}

/** Stops the member, deletes its data dir and starts it again: a new, empty cluster at revision 1. */
async function resetDataDir(member: EtcdMember): Promise<void> {
  await member.stop();
  rmSync(member.config.dataDir, { recursive: true, force: true });
  await member.start();
}

interface Line {
  type: string;
  key: string;
  id?: string;
  revision: number;
  reason?: string;
  compact_revision?: number;
  resync?: boolean;
  instance?: { port: number } | null;
}

function lines(p: CliProcess): Line[] {
  return p.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
}

async function untilLines(p: CliProcess, count: number, timeoutMs = 30_000): Promise<Line[]> {
  const until = Date.now() + timeoutMs;
  while (lines(p).length < count) {
    if (Date.now() > until) throw new Error(`expected ${count} lines, have ${lines(p).length}\nstdout: ${p.stdout}\nstderr: ${p.stderr}`);
    if (p.child.exitCode !== null) throw new Error(`watch exited (${p.child.exitCode})\nstderr: ${p.stderr}`);
    await sleep(100);
  }
  return lines(p);
}

describe('etcd restarted with a new data dir', () => {
  it('watch -o ndjson notices the revision went back: RESYNC, the difference, then the new writes once, in order', async () => {
    const cluster = await etcd();
    const member = cluster.members[0];
    const proxy = await TcpProxy.start(member.config.clientPort);
    proxies.push(proxy);
    const prefix = '/reset/';
    // The old cluster: 50 instances, revisions 2..51.
    for (let i = 0; i < 50; i++) await put(member, `${prefix}web/old-${i}`, value('web', `old-${i}`));
    const watch = await cluster.startWatching(() => cli(['--endpoints', proxy.url, '--prefix', prefix, '--timeout', '1s', 'watch', '-o', 'ndjson']));
    const liveRev = await put(member, `${prefix}web/live-0`, value('web', 'live-0'));
    expect(liveRev).toBe(52);
    await watch.waitFor(/"id":"live-0"/);

    // The watcher is held off (connections refused) while etcd comes back empty and is written to.
    proxy.cut();
    await resetDataDir(member);
    // Revision 2 again, with the same key, create and mod revision as before: only the value differs.
    expect(await put(member, `${prefix}web/old-0`, value('web', 'old-0', 2))).toBe(2);
    await put(member, `${prefix}web/pre-0`, value('web', 'pre-0'));
    const resetRev = await put(member, `${prefix}web/pre-1`, value('web', 'pre-1'));
    proxy.restore();

    // live-0, RESYNC, 3 PUTs (old-0 changed, pre-0, pre-1), 50 DELETEs (old-1..49, live-0).
    const resynced = await untilLines(watch, 1 + 1 + 3 + 50, 40_000);
    expect(resynced[0]).toMatchObject({ type: 'PUT', id: 'live-0', revision: 52 });
    expect(resynced[0].resync).toBeUndefined();
    expect(resynced[1]).toMatchObject({ type: 'RESYNC', reason: 'revision went back', revision: resetRev, compact_revision: 0 });
    const diff = resynced.slice(2);
    expect(diff.every((e) => e.resync === true)).toBe(true);
    expect(diff.filter((e) => e.type === 'PUT').map((e) => e.id)).toEqual(['old-0', 'pre-0', 'pre-1']);
    expect(diff.find((e) => e.id === 'old-0')!.instance!.port).toBe(2);
    const gone = [...Array.from({ length: 49 }, (_, i) => `old-${i + 1}`), 'live-0'].sort();
    expect(diff.filter((e) => e.type === 'DELETE').map((e) => e.id).sort()).toEqual(gone);
    expect(diff.length).toBe(53);
    await watch.waitFor(/earlier revision than was delivered.*resynced at revision/, { stream: 'stderr' });

    // The new cluster's writes, as normal events, exactly once, in order.
    const expected: string[] = [];
    for (let i = 0; i < 3; i++) expected.push(`${await put(member, `${prefix}web/post-${i}`, value('web', `post-${i}`))} PUT post-${i}`);
    expected.push(`${await put(member, `${prefix}web/pre-0`, value('web', 'pre-0', 3))} PUT pre-0`);
    await untilLines(watch, resynced.length + expected.length);
    await sleep(1000); // a duplicate would show up now
    const after = lines(watch).slice(resynced.length);
    expect(after.map((e) => `${e.revision} ${e.type} ${e.id}`)).toEqual(expected);
    expect(after.every((e) => e.resync === undefined)).toBe(true);
    expect(after.map((e) => e.revision)).toEqual([resetRev + 1, resetRev + 2, resetRev + 3, resetRev + 4]);
  });

  it('watch notices a new cluster ID even when the new cluster is already past the old revision', async () => {
    const cluster = await etcd();
    const member = cluster.members[0];
    const proxy = await TcpProxy.start(member.config.clientPort);
    proxies.push(proxy);
    const prefix = '/reset/';
    for (let i = 0; i < 10; i++) await put(member, `${prefix}web/old-${i}`, value('web', `old-${i}`));
    const watch = await cluster.startWatching(() => cli(['--endpoints', proxy.url, '--prefix', prefix, '--timeout', '1s', 'watch', '-o', 'ndjson']));
    await put(member, `${prefix}web/live-0`, value('web', 'live-0'));
    await watch.waitFor(/"id":"live-0"/);

    proxy.cut();
    await member.stop();
    rmSync(member.config.dataDir, { recursive: true, force: true });
    // Another cluster token: another cluster ID (the test's own member config, not the harness).
    member.config.clusterToken = `${member.config.clusterToken}-b`;
    await member.start();
    // 30 writes: the new cluster's revision (31) passes the old one (12), so only the ID tells.
    let newRev = 0;
    for (let i = 0; i < 30; i++) newRev = await put(member, `${prefix}web/new-${i}`, value('web', `new-${i}`));
    proxy.restore();

    // live-0, RESYNC, 30 PUTs, 11 DELETEs.
    const got = await untilLines(watch, 1 + 1 + 30 + 11, 40_000);
    expect(got[1]).toMatchObject({ type: 'RESYNC', reason: 'cluster changed', revision: newRev });
    const diff = got.slice(2);
    expect(diff.every((e) => e.resync === true)).toBe(true);
    expect(diff.filter((e) => e.type === 'PUT').map((e) => e.id)).toEqual(Array.from({ length: 30 }, (_, i) => `new-${i}`));
    expect(diff.filter((e) => e.type === 'DELETE').length).toBe(11);
    await watch.waitFor(/another cluster.*resynced/, { stream: 'stderr' });
    const next = await put(member, `${prefix}web/after`, value('web', 'after'));
    await watch.waitFor(/"id":"after"/);
    await sleep(1000);
    const tail = lines(watch).slice(got.length);
    expect(tail.map((e) => `${e.revision} ${e.type} ${e.id} ${e.resync}`)).toEqual([`${next} PUT after undefined`]);
  });

  /** The old cluster: 50 instances of another service, and `web/old-1`; a discover --wait through a proxy. */
  async function waitingDiscover(): Promise<{ cluster: EtcdCluster; member: EtcdMember; proxy: TcpProxy; wait: CliProcess }> {
    const cluster = await etcd();
    const member = cluster.members[0];
    const proxy = await TcpProxy.start(member.config.clientPort);
    proxies.push(proxy);
    for (let i = 0; i < 50; i++) await put(member, `${prefix}other/o-${i}`, value('other', `o-${i}`));
    await put(member, `${prefix}web/old-1`, value('web', 'old-1'));
    const wait = await cluster.startWatching(() =>
      cli(['--endpoints', proxy.url, '--prefix', prefix, '--timeout', '1s', 'discover', 'web', '--wait', '--min', '2', '--wait-timeout', '30s', '-o', 'json']),
    );
    return { cluster, member, proxy, wait };
  }
  const prefix = '/reset/';
  const ids = (stdout: string) => JSON.parse(stdout).map((i: { service_id: string }) => i.service_id).sort();

  it('discover --wait --min 2 returns the 2 instances registered in the new cluster after the reset', async () => {
    const { cluster, member, proxy, wait } = await waitingDiscover();
    proxy.cut();
    await resetDataDir(member);
    proxy.restore();
    // The waiter is back on the new cluster (and done resyncing) before anything is registered.
    const until = Date.now() + 30_000;
    while ((await cluster.watchers()) < 1 && Date.now() < until) await sleep(50);
    await sleep(1500);
    await put(member, `${prefix}web/new-1`, value('web', 'new-1'));
    await put(member, `${prefix}web/new-2`, value('web', 'new-2'));
    const result = await wait.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(ids(result.stdout)).toEqual(['new-1', 'new-2']);
  });

  it('discover --wait --min 2 does not count the instance that went with the old cluster when the resync brings new ones', async () => {
    const { member, proxy, wait } = await waitingDiscover();
    proxy.cut();
    await resetDataDir(member);
    // Registered before the waiter reconnects: they come in the resync, with the DELETE of old-1.
    await put(member, `${prefix}web/new-1`, value('web', 'new-1'));
    await put(member, `${prefix}web/new-2`, value('web', 'new-2'));
    proxy.restore();
    const result = await wait.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(ids(result.stdout)).toEqual(['new-1', 'new-2']);
  });
});
