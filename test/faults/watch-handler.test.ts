/**
 * `svcreg watch -- command` under real faults: the handler runs exactly once per event,
 * in revision order, while a proxy cuts and blackholes the watch's connections, and for
 * each difference event after a compaction it missed. What the handler recorded is
 * checked against etcd's own history.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { currentRevision, history, settledRevision, value, writer, type HistoryEvent } from '../harness/history.js';
import { TcpProxy } from '../harness/proxy.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const started: CliProcess[] = [];
let etcd: EtcdCluster;
let raw: Etcd3;
let proxy: TcpProxy;
let dir: string;
let n = 0;

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

/** A handler that appends "<SVCREG_EVENT_RESYNC or 0> <its stdin line>" to `log`. */
const recorder = (log: string) => ['--', 'sh', '-c', 'printf "%s %s\\n" "${SVCREG_EVENT_RESYNC:-0}" "$(cat)" >> "$0"', log];

function recorded(log: string): (HistoryEvent & { resync: string; id: string; flagged?: boolean })[] {
  return lines(log).map((l) => {
    const space = l.indexOf(' ');
    const e = JSON.parse(l.slice(space + 1));
    return { resync: l.slice(0, space), type: e.type, key: e.key, revision: e.revision, id: e.id, flagged: e.resync };
  });
}

async function watching(args: string[]): Promise<CliProcess> {
  return etcd.startWatching(() => {
    const p = startCli(args);
    started.push(p);
    return p;
  });
}

beforeAll(async () => {
  etcd = await startEtcd();
  raw = new Etcd3({ hosts: etcd.endpoints });
  proxy = await TcpProxy.start(etcd.members[0].config.clientPort);
  dir = mkdtempSync(join(tmpdir(), 'svcreg-handler-faults-'));
});

afterEach(async () => {
  proxy.restore();
  await Promise.all(started.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  await proxy?.close();
  raw?.close();
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('watch -- command under faults', () => {
  it('runs the handler exactly once per event, in order, while connections are cut and blackholed', async () => {
    const prefix = `/whf-${++n}/`;
    const log = join(dir, `log-${n}`);
    const from = (await currentRevision(raw)) + 1;
    const watch = await watching(['--endpoints', proxy.url, '--prefix', prefix, '--timeout', '1s', 'watch', ...recorder(log)]);
    // Paced near what a handler per event keeps up with (each is a process), so cuts come both live and behind.
    const w = writer(raw, prefix, 4);
    await proxy.flap();
    while (w.state.ok < 600) await sleep(100);
    const { last } = await w.finish();
    // A write whose answer a cut lost may still have committed: the truth runs to etcd's revision now.
    const truth = await history(raw, prefix, from, Math.max(last, await settledRevision(raw)));
    const until = Date.now() + 60_000;
    while (lines(log).length < truth.length && Date.now() < until) await sleep(100);
    await sleep(500); // a repeat would show up now
    expect(recorded(log).map((e) => `${e.revision} ${e.type} ${e.key}`)).toEqual(truth.map((e) => `${e.revision} ${e.type} ${e.key}`));
    expect(truth.length).toBeGreaterThanOrEqual(600);
    await watch.waitFor(/lost the connection/, { stream: 'stderr' });
    console.log(`cut/blackhole: ${truth.length} events, each handled once, in order`);
  });

  it('after a compaction it missed, runs the handler for each difference event (resync) and not for the RESYNC record, which stderr reports', async () => {
    const prefix = `/whf-${++n}/`;
    const log = join(dir, `log-${n}`);
    await raw.put(`${prefix}s/gone`).value(value('s', 'gone'));
    const watch = await watching(['--endpoints', proxy.url, '--prefix', prefix, '--timeout', '1s', 'watch', ...recorder(log)]);
    proxy.cut();
    await raw.delete().key(`${prefix}s/gone`).exec();
    await raw.put(`${prefix}s/new`).value(value('s', 'new'));
    await raw.kv.compact({ revision: await currentRevision(raw), physical: true });
    proxy.restore();
    const until = Date.now() + 20_000;
    while (lines(log).length < 2 && Date.now() < until) await sleep(100);
    expect(recorded(log).map((e) => `${e.type} ${e.id} ${e.resync} ${e.flagged}`).sort()).toEqual(['DELETE gone 1 true', 'PUT new 1 true']);
    await watch.waitFor(/compacted: resynced/, { stream: 'stderr' });
    await raw.put(`${prefix}s/live`).value(value('s', 'live'));
    while (lines(log).length < 3 && Date.now() < until + 10_000) await sleep(100);
    expect(recorded(log).map((e) => `${e.type} ${e.id} ${e.resync}`)[2]).toBe('PUT live 0');
  });
});
