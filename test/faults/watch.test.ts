/**
 * `svcreg watch` and `discover --wait` under real faults: a proxy that cuts,
 * blackholes and half-opens connections, etcd restarts, leader kills, compaction.
 * What the CLI printed is checked against etcd's own history.
 */
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { TcpProxy } from '../harness/proxy.js';
import { currentRevision, history, settledRevision, value, writer, type HistoryEvent as Printed } from '../harness/history.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const started: CliProcess[] = [];
let n = 0;

function cli(args: string[]): CliProcess {
  const p = startCli(args);
  started.push(p);
  return p;
}

function printed(p: CliProcess): Printed[] {
  return p.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Printed);
}

/**
 * Waits until `watch` has printed as many events as etcd's history of `prefix` holds
 * between the two revisions, then checks it printed exactly those: each once, in
 * revision order. Returns how many there were.
 */
async function expectPrintedHistory(watch: CliProcess, client: Etcd3, prefix: string, from: number, to: number): Promise<number> {
  // A write whose answer a fault cut off may still have committed after the writer's last
  // acknowledged one: the truth runs to etcd's revision now (the cluster is quiet).
  to = Math.max(to, await settledRevision(client));
  const truth = await history(client, prefix, from, to);
  const until = Date.now() + 30_000;
  while (printed(watch).length < truth.length && Date.now() < until) await sleep(100);
  await sleep(500); // a duplicate would show up now
  expect(printed(watch).map((e) => `${e.revision} ${e.type} ${e.key}`)).toEqual(truth.map((e) => `${e.revision} ${e.type} ${e.key}`));
  return truth.length;
}

// Each test's processes stop with it, so its watchers never count in the next test.
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
});

describe('one etcd behind a proxy', () => {
  let etcd: EtcdCluster;
  let raw: Etcd3;
  let proxy: TcpProxy;
  beforeAll(async () => {
    etcd = await startEtcd();
    raw = new Etcd3({ hosts: etcd.endpoints });
    proxy = await TcpProxy.start(etcd.members[0].config.clientPort);
  });
  afterAll(async () => {
    await proxy?.close();
    raw?.close();
    await etcd?.stop();
  });

  it('watch delivers every event exactly once, in order, while connections are cut and blackholed', async () => {
    const prefix = `/wf-${++n}/`;
    const from = (await currentRevision(raw)) + 1;
    const watch = await etcd.startWatching(() => cli(['--endpoints', proxy.url, '--prefix', prefix, '--timeout', '1s', 'watch', '-o', 'ndjson']));
    const w = writer(raw, prefix);
    await proxy.flap();
    while (w.state.ok < 3000) await sleep(100);
    const { last } = await w.finish();
    proxy.restore();
    const count = await expectPrintedHistory(watch, raw, prefix, from, last);
    expect(count).toBeGreaterThanOrEqual(3000);
    await watch.waitFor(/lost the connection/, { stream: 'stderr' });
    console.log(`cut/blackhole: ${count} events, all delivered once, in order`);
  });

  it('watch notices a half-open connection (gRPC keepalive) and resumes without a gap', async () => {
    const prefix = `/wf-${++n}/`;
    const watch = await etcd.startWatching(() => cli(['--endpoints', proxy.url, '--prefix', prefix, '--timeout', '1s', 'watch', '-o', 'ndjson']));
    await raw.put(`${prefix}s/before`).value(value('s', 'before'));
    await watch.waitFor(/"id":"before"/);
    proxy.stallExisting();
    const stalled = Date.now();
    await raw.put(`${prefix}s/during`).value(value('s', 'during'));
    await watch.waitFor(/"id":"during"/, { timeoutMs: 40_000 });
    const detectedMs = Date.now() - stalled;
    expect(printed(watch).map((e) => e.key)).toEqual([`${prefix}s/before`, `${prefix}s/during`]);
    console.log(`half-open connection detected and resumed after ${detectedMs} ms`);
  });

  it('after a compaction it missed, watch -o ndjson prints a RESYNC record and the difference, and says so on stderr', async () => {
    const prefix = `/wf-${++n}/`;
    await raw.put(`${prefix}s/gone`).value(value('s', 'gone'));
    const watch = await etcd.startWatching(() => cli(['--endpoints', proxy.url, '--prefix', prefix, '--timeout', '1s', 'watch', '-o', 'ndjson']));
    proxy.cut();
    await raw.delete().key(`${prefix}s/gone`).exec();
    await raw.put(`${prefix}s/new`).value(value('s', 'new'));
    await raw.kv.compact({ revision: await currentRevision(raw), physical: true });
    proxy.restore();
    // The difference comes changed keys first, deletions last: wait for both lines.
    await watch.waitFor(/"id":"new"/, { timeoutMs: 20_000 });
    await watch.waitFor(/"id":"gone"/);
    const lines = printed(watch) as (Printed & { id?: string; resync?: boolean })[];
    expect(lines[0].type).toBe('RESYNC');
    expect(lines.slice(1).map((e) => `${e.type} ${e.id} ${e.resync}`).sort()).toEqual(['DELETE gone true', 'PUT new true']);
    await watch.waitFor(/compacted: resynced/, { stream: 'stderr' });
    await raw.put(`${prefix}s/live`).value(value('s', 'live'));
    await watch.waitFor(/"id":"live"/);
  });

  it('watch delivers every event exactly once, in order, across etcd being killed and restarted', async () => {
    const prefix = `/wf-${++n}/`;
    const from = (await currentRevision(raw)) + 1;
    const watch = await etcd.startWatching(() => cli(['--endpoints', etcd.endpoints, '--prefix', prefix, '--timeout', '1s', 'watch', '-o', 'ndjson']));
    const w = writer(raw, prefix);
    for (let round = 0; round < 2; round++) {
      await sleep(800);
      await etcd.members[0].kill9();
      await sleep(1500);
      await etcd.members[0].start();
    }
    await sleep(800);
    const { last } = await w.finish();
    const count = await expectPrintedHistory(watch, raw, prefix, from, last);
    expect(count).toBeGreaterThan(100);
    console.log(`etcd restarts: ${count} events, all delivered once, in order`);
  });

  it('discover --wait keeps waiting through an etcd restart, says so, and returns when the instance appears', async () => {
    const prefix = `/wf-${++n}/`;
    const wait = await etcd.startWatching(() => cli(['--endpoints', etcd.endpoints, '--prefix', prefix, '--timeout', '1s', 'discover', 'late', '--wait', '-o', 'json']));
    await etcd.members[0].kill9();
    await sleep(3000);
    await etcd.members[0].start();
    raw.close();
    raw = new Etcd3({ hosts: etcd.endpoints });
    await raw.put(`${prefix}late/1`).value(value('late', '1'));
    const result = await wait.exited;
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).map((i: { service_id: string }) => i.service_id)).toEqual(['1']);
    expect(result.stderr).toMatch(/lost the connection to etcd/);
    // Throttled: one line per 5 s at most, not one per retry.
    expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(4);
  });
});

describe('a 3-member cluster', () => {
  let cluster: EtcdCluster;
  let raw: Etcd3;
  beforeAll(async () => {
    cluster = await startEtcd({ size: 3 });
    raw = new Etcd3({ hosts: cluster.members.map((m) => m.clientUrl) });
  });
  afterAll(async () => {
    raw?.close();
    await cluster?.stop();
  });

  it('watch moves off a frozen member and keeps delivering', async () => {
    const prefix = `/wf-${++n}/`;
    const watch = await cluster.startWatching(() => cli(['--endpoints', cluster.endpoints, '--prefix', prefix, '--timeout', '1s', 'watch', '-o', 'ndjson']));
    const others = new Etcd3({ hosts: cluster.members.slice(1).map((m) => m.clientUrl) });
    cluster.members[0].freeze(); // the member the watcher starts on
    try {
      await others.put(`${prefix}s/while-frozen`).value(value('s', 'while-frozen'));
      await watch.waitFor(/"id":"while-frozen"/, { timeoutMs: 30_000 });
    } finally {
      cluster.members[0].thaw();
      others.close();
    }
  });

  it('watch delivers every event exactly once, in order, across leader kills and member restarts', async () => {
    const prefix = `/wf-${++n}/`;
    const from = (await currentRevision(raw)) + 1;
    const watch = await cluster.startWatching(() => cli(['--endpoints', cluster.endpoints, '--prefix', prefix, '--timeout', '1s', 'watch', '-o', 'ndjson']));
    const w = writer(raw, prefix);
    for (let round = 0; round < 3; round++) {
      await sleep(700);
      const leader = await cluster.leader();
      await leader.kill9();
      await sleep(1000);
      await leader.start();
      await cluster.leader();
    }
    // The member the watcher starts on, restarted too.
    await cluster.members[0].kill9();
    await sleep(1000);
    await cluster.members[0].start();
    await sleep(700);
    const { last } = await w.finish();
    const count = await expectPrintedHistory(watch, raw, prefix, from, last);
    expect(count).toBeGreaterThan(100);
    console.log(`leader kills: ${count} events, all delivered once, in order`);
  });
});

describe('a 3-member cluster with a member cut off from its quorum', () => {
  let cluster: EtcdCluster;
  let raw: Etcd3;
  beforeAll(async () => {
    cluster = await startEtcd({ size: 3, partitionable: true });
    raw = new Etcd3({ hosts: cluster.members.map((m) => m.clientUrl) });
  });
  afterAll(async () => {
    raw?.close();
    await cluster?.stop();
  });

  /** A follower, listed first in --endpoints so that svcreg starts on it, and a client of the others. */
  async function follower() {
    const leader = await cluster.leader();
    const victim = cluster.members.find((m) => m !== leader)!;
    const rest = cluster.members.filter((m) => m !== victim);
    const endpoints = [victim, ...rest].map((m) => m.clientUrl).join(',');
    return { victim, endpoints, others: new Etcd3({ hosts: rest.map((m) => m.clientUrl) }) };
  }

  afterEach(async () => {
    cluster.heal();
    await cluster.leader();
  });

  it('a watch on a partitioned member moves to another within seconds, missing and repeating nothing', async () => {
    const prefix = `/wf-${++n}/`;
    const { victim, endpoints, others } = await follower();
    try {
      const from = (await currentRevision(others)) + 1;
      const watch = await cluster.startWatching(() => cli(['--endpoints', endpoints, '--prefix', prefix, '--timeout', '1s', 'watch', '-o', 'ndjson']));
      const w = writer(others, prefix);
      while (w.state.ok < 50) await sleep(50);
      await cluster.partition(victim);
      const cutAt = Date.now();
      // The rest of the cluster takes writes; the watch must see them without the member's leader.
      const marker = await others.put(`${prefix}s/after-partition`).value(value('s', 'after-partition'));
      expect(Number(marker.header.revision)).toBeGreaterThan(0);
      await watch.waitFor(/"id":"after-partition"/, { timeoutMs: 30_000 });
      const movedMs = Date.now() - cutAt;
      while (w.state.ok < 400) await sleep(50);
      const { last } = await w.finish();
      const count = await expectPrintedHistory(watch, others, prefix, from, last);
      expect(movedMs).toBeLessThan(20_000);
      console.log(`partition: the watch moved off the cut-off member in ${movedMs} ms; ${count} events, all delivered once, in order`);
    } finally {
      others.close();
    }
  });

  it('discover --wait on a partitioned member returns once enough instances exist in the rest of the cluster', async () => {
    const prefix = `/wf-${++n}/`;
    const { victim, endpoints, others } = await follower();
    try {
      const wait = await cluster.startWatching(() => cli(['--endpoints', endpoints, '--prefix', prefix, '--timeout', '1s', 'discover', 'web', '--wait', '--min', '2', '-o', 'addr']));
      await cluster.partition(victim);
      const cutAt = Date.now();
      await others.put(`${prefix}web/a`).value(value('web', 'a'));
      await others.put(`${prefix}web/b`).value(value('web', 'b'));
      const result = await wait.exited;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim().split('\n')).toHaveLength(2);
      expect(Date.now() - cutAt).toBeLessThan(20_000);
    } finally {
      others.close();
    }
  });
});
