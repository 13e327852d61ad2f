/**
 * One etcd transaction writing several keys makes several events of one revision:
 * `registry.watch` must deliver every one of them, exactly once, in order, also when
 * the connection is cut in the middle of a stream of such transactions.
 *
 * SVCREG_TEST_LIB imports another build of the library (e.g. /tmp/oldmain/dist/index.js)
 * to compare with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registry as RegistryType, WatchEvent } from '../../src/index.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { TcpProxy } from '../harness/proxy.js';
import { until } from '../harness/until.js';

const { Registry } = (await import(process.env.SVCREG_TEST_LIB || '../../src/index.js')) as typeof import('../../src/index.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let etcd: EtcdCluster;
let proxy: TcpProxy;
let n = 0;
const registries: RegistryType[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  proxy = await TcpProxy.start(etcd.members[0].config.clientPort);
});
afterAll(async () => {
  for (const r of registries) r.close();
  await proxy?.close();
  await etcd?.stop();
});

const value = (service: string, id: string, i: number) =>
  JSON.stringify({ service_id: id, service_name: service, address: '127.0.0.1', port: 1000 + (i % 1000), tags: [], metadata: {}, registered_at: 1 });

/** A registry watching through the proxy, collecting what it delivers until stopped. */
async function watching(): Promise<{ registry: RegistryType; prefix: string; events: WatchEvent[]; disconnects: { count: number }; stop: () => Promise<void> }> {
  const prefix = `/txn-${++n}/`;
  const registry = new Registry({ endpoints: [proxy.url], prefix, timeoutMs: 1000 });
  registries.push(registry);
  const events: WatchEvent[] = [];
  const abort = new AbortController();
  let failed: unknown;
  const disconnects = { count: 0 };
  // Running once etcd serves one more watcher (as the harness's startWatching), or failed.
  const before = await etcd.watchers();
  const done = (async () => {
    for await (const e of registry.watch(undefined, { signal: abort.signal, onStatus: (st) => void (st.state === 'disconnected' && disconnects.count++) })) events.push(e);
  })();
  done.catch((err) => (failed = err ?? new Error('watch failed')));
  const end = Date.now() + 30_000;
  while ((await etcd.watchers()) <= before) {
    if (failed) throw failed;
    if (Date.now() > end) throw new Error('no new watcher appeared in etcd');
    await sleep(50);
  }
  return { registry, prefix, events, disconnects, stop: async () => {
      abort.abort();
      await done;
      // Its watcher gone from etcd, so the next test's startup is counted from here.
      const gone = Date.now() + 10_000;
      while ((await etcd.watchers()) > before && Date.now() < gone) await sleep(50);
    },
  };
}

const ids = (i: number) => Array.from({ length: 5 }, (_, j) => `i${i}-k${j}`);
const seen = (events: WatchEvent[]) => events.map((e) => (e.type === 'RESYNC' ? 'RESYNC' : `${e.revision} ${e.type} ${e.key}`));

describe('registry.watch and transactions', () => {
  it('a transaction putting 5 keys yields 5 events of one revision', async () => {
    const w = await watching();
    const keys = ids(0).map((id) => `${w.prefix}web/${id}`);
    const revision = await etcd.members[0].txn(keys.map((k, j) => [k, value('web', ids(0)[j], j)]));
    await until('5 events', () => w.events.length >= 5, 30_000);
    await sleep(500); // a duplicate would show up now
    await w.stop();
    expect(seen(w.events)).toEqual(keys.map((k) => `${revision} PUT ${k}`));
    expect(w.events.map((e) => e.type !== 'RESYNC' && e.id)).toEqual(ids(0));
  });

  it('delivers every (revision, key) of a stream of 5-key transactions exactly once, in order, across cut connections', async () => {
    const w = await watching();
    const expected: string[] = [];
    let stop = false;
    let written = 0;
    // Keys are reused (40 of them), so later transactions overwrite earlier ones.
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const puts = ids(i % 8).map((id, j): [string, string] => [`${w.prefix}web/${id}`, value('web', id, i * 5 + j)]);
        const revision = await etcd.members[0].txn(puts);
        for (const [k] of puts) expected.push(`${revision} PUT ${k}`);
        written++;
        if (i % 4 === 3) await sleep(5);
      }
    })();
    for (let round = 0; round < 6; round++) {
      await sleep(300 + round * 70);
      proxy.cut();
      await sleep(400);
      proxy.restore();
    }
    await until('300 transactions', () => written >= 300, 30_000);
    stop = true;
    await writer;
    await until(`${expected.length} events`, () => w.events.length >= expected.length, 40_000);
    await sleep(1000); // a duplicate would show up now
    await w.stop();
    const got = seen(w.events);
    const missing = expected.filter((e) => !got.includes(e));
    expect(missing.slice(0, 10)).toEqual([]);
    expect(got.length).toBe(expected.length);
    expect(got.join('\n') === expected.join('\n')).toBe(true);
    // The cuts did break the stream.
    expect(w.disconnects.count).toBeGreaterThanOrEqual(3);
    console.log(`transactions across cuts: ${written} transactions, ${got.length} events, ${w.disconnects.count} disconnects, each event once, in order`);
  });
});
