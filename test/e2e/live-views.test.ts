/**
 * `list --watch` and `discover --watch`: the listing now, then again after each change,
 * from one read and the watch (never polling); redrawn in place on a terminal.
 */
import { Etcd3 } from 'etcd3';
import { parseAllDocuments } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { startCli, type CliProcess } from '../harness/cli.js';
import { TmuxPane } from '../harness/tmux.js';

let etcd: EtcdCluster;
let client: Etcd3;
let view: CliProcess | undefined;
let pane: TmuxPane | undefined;
let prefixes = 0;

beforeAll(async () => {
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.endpoints });
});

afterEach(async () => {
  await view?.stop();
  await pane?.stop();
  view = pane = undefined;
});

afterAll(async () => {
  client?.close();
  await etcd?.stop();
});

const value = (service: string, id: string, port: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ service_id: id, service_name: service, address: '127.0.0.1', port, tags: [], metadata: {}, registered_at: 1764000000, ...extra });

/** A prefix of the test's own, so tests never see each other's keys. */
const freshPrefix = () => `/live-${++prefixes}/`;
const env = (prefix: string) => ({ SVCREG_ENDPOINTS: etcd.endpoints, SVCREG_PREFIX: prefix });

/** The documents printed so far, one per line (ndjson). */
const documents = (p: CliProcess) => p.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown[]);

/** Waits until the view has printed `n` documents. */
async function printed(p: CliProcess, n: number): Promise<unknown[][]> {
  await p.waitFor(new RegExp(`^(.*\\n){${n}}`));
  return documents(p);
}

const rangesServed = () => etcd.members[0].rangesServed();

describe('list --watch', () => {
  it('prints the counts now, then again after a registration and after a deregistration', async () => {
    const prefix = freshPrefix();
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    view = startCli(['list', '--watch', '-o', 'ndjson'], env(prefix));
    expect((await printed(view, 1))[0]).toEqual([{ service: 'web', instances: 1, healthy: 1, malformed: 0 }]);
    await client.put(`${prefix}web/w2`).value(value('web', 'w2', 8002));
    expect((await printed(view, 2))[1]).toEqual([{ service: 'web', instances: 2, healthy: 1 + 1, malformed: 0 }]);
    await client.delete().key(`${prefix}web/w1`);
    await client.delete().key(`${prefix}web/w2`);
    const docs = await view.waitFor(/\[\]\n/).then(() => documents(view!));
    expect(docs.at(-1)).toEqual([]);
  });

  it('with --instances, each document is the whole listing, malformed entries included, in key order', async () => {
    const prefix = freshPrefix();
    view = startCli(['list', '--instances', '--watch', '-o', 'ndjson'], env(prefix));
    expect((await printed(view, 1))[0]).toEqual([]);
    await client.put(`${prefix}b/b1`).value(value('b', 'b1', 1));
    await client.put(`${prefix}a/a1`).value('not json');
    await view.waitFor(/malformed/);
    const last = documents(view).at(-1) as { key: string; malformed?: true }[];
    expect(last.map((e) => e.key)).toEqual([`${prefix}a/a1`, `${prefix}b/b1`]);
    expect(last[0].malformed).toBe(true);
  });

  it('a burst of 100 changes in one transaction is one new document, not one per change', async () => {
    const prefix = freshPrefix();
    view = startCli(['list', '--instances', '--watch', '-o', 'ndjson'], env(prefix));
    await printed(view, 1);
    await etcd.members[0].txn(Array.from({ length: 100 }, (_, i) => [`${prefix}web/w${i}`, value('web', `w${i}`, 1000 + i)]));
    await view.waitFor(/w99/);
    await new Promise((r) => setTimeout(r, 300));
    const docs = documents(view);
    expect(docs.at(-1)).toHaveLength(100);
    // Every event of the transaction arrives in one response: no document shows part of it.
    expect(docs.slice(1).every((d) => d.length === 100)).toBe(true);
  });

  it('reads once and then only watches: idle, it sends etcd no more reads', async () => {
    const prefix = freshPrefix();
    view = startCli(['list', '--watch', '-o', 'ndjson'], env(prefix));
    await printed(view, 1);
    const before = await rangesServed();
    // Guard: the metric counts reads, or this test would prove nothing.
    await client.get(`${prefix}x`);
    expect(await rangesServed()).toBeGreaterThan(before);
    const after = await rangesServed();
    await new Promise((r) => setTimeout(r, 3000));
    expect(await rangesServed()).toBe(after);
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 1));
    expect((await printed(view, 2))[1]).toEqual([{ service: 'web', instances: 1, healthy: 1, malformed: 0 }]);
  });

  it('-o yaml streams one document per change', async () => {
    const prefix = freshPrefix();
    view = startCli(['list', '--watch', '-o', 'yaml'], env(prefix));
    await view.waitFor(/^---\n\[\]\n/);
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 1));
    await view.waitFor(/service: web/);
    expect(parseAllDocuments(view.stdout).map((d) => d.toJS())).toEqual([[], [{ service: 'web', instances: 1, healthy: 1, malformed: 0 }]]);
  });

  it('stops on SIGTERM and on SIGINT with exit 0', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const p = startCli(['list', '--watch', '-o', 'json'], env(freshPrefix()));
      await p.waitFor(/\]/);
      p.signal(signal);
      const result = await p.exited;
      expect(result.code).toBe(0);
    }
  });
});

describe('discover --watch', () => {
  it('shows the passing instances of the service only, as they change', async () => {
    const prefix = freshPrefix();
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    await client.put(`${prefix}webby/x`).value(value('webby', 'x', 9));
    view = startCli(['discover', 'web', '--watch', '-o', 'ndjson'], env(prefix));
    const ids = (doc: unknown[]) => (doc as { service_id: string }[]).map((i) => i.service_id);
    expect(ids((await printed(view, 1))[0])).toEqual(['w1']);
    await client.put(`${prefix}web/w2`).value(value('web', 'w2', 8002, { health: { status: 'critical' } }));
    await client.put(`${prefix}web/w3`).value(value('web', 'w3', 8003));
    await view.waitFor(/w3/);
    expect(ids(documents(view).at(-1)!)).toEqual(['w1', 'w3']);
  });

  it('-o json prints one indented document per change, a stream a JSON reader takes whole', async () => {
    const prefix = freshPrefix();
    view = startCli(['discover', 'web', '--watch', '-o', 'json'], env(prefix));
    await view.waitFor(/\[\]\n/);
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    await view.waitFor(/"w1"[\s\S]*\]\n/);
    const docs = view.stdout.split(/\n(?=\[)/).map((text) => JSON.parse(text) as unknown[]);
    expect(docs.map((d) => d.length)).toEqual([0, 1]);
  });

  it('a change made while etcd was down is shown once etcd is back', async () => {
    const cluster = await startEtcd();
    try {
      const prefix = freshPrefix();
      view = startCli(['discover', 'web', '--watch', '-o', 'ndjson'], { SVCREG_ENDPOINTS: cluster.endpoints, SVCREG_PREFIX: prefix });
      await printed(view, 1);
      await cluster.members[0].stop();
      await view.waitFor(/lost the connection/, { stream: 'stderr' });
      await cluster.members[0].start();
      await cluster.members[0].txn([[`${prefix}web/w1`, value('web', 'w1', 8001)]]);
      await view.waitFor(/w1/, { timeoutMs: 30_000 });
      expect(documents(view).at(-1)).toHaveLength(1);
    } finally {
      await view?.stop();
      view = undefined;
      await cluster.stop();
    }
  });

  it('takes no --wait, --min or --pick: a usage error, exit 2', async () => {
    const p = startCli(['discover', 'web', '--watch', '--pick', 'first'], env(freshPrefix()));
    const result = await p.exited;
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--watch shows every change/);
  });
});

describe('a live view on a terminal', () => {
  it('redraws the table in place after each change, and Ctrl-C leaves the terminal as it was with exit 0', async () => {
    const prefix = freshPrefix();
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    pane = await TmuxPane.start(['list', '--instances', '--watch'], env(prefix));
    await pane.waitFor(/w1/);
    await client.put(`${prefix}web/w2`).value(value('web', 'w2', 8002, { tags: ['\u001b[2Jevil'] }));
    const screen = await pane.waitFor(/w2/);
    // One header and one table, on the screen and in what scrolled off it: the first drawing was overwritten, not followed.
    expect(screen.match(/list --watch: revision/g)).toHaveLength(1);
    expect(screen.match(/^SERVICE/gm)).toHaveLength(1);
    expect(screen).toContain('\\x1b[2Jevil');
    await pane.keys('C-c');
    expect(await pane.waitFor(/\[exit \d+\]/)).toMatch(/\[terminal unchanged\]\s+\[exit 0\]/);
  });
});
