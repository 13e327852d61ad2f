import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlreadyRegisteredError, NotFoundError, Registry, type WatchEvent } from '../../src/index.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { TcpProxy } from '../harness/proxy.js';
import { until } from '../harness/until.js';

let etcd: EtcdCluster;
let raw: Etcd3;
let n = 0;
const registries: Registry[] = [];

/** A registry on its own prefix, so tests never see each other's keys. */
function fresh(options: { endpoints?: string[]; timeoutMs?: number } = {}): Registry {
  const registry = new Registry({ endpoints: options.endpoints ?? [etcd.endpoints], prefix: `/it-${++n}/`, timeoutMs: options.timeoutMs });
  registries.push(registry);
  return registry;
}

async function take(iterator: AsyncIterator<WatchEvent>, count: number): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  while (events.length < count) {
    const r = await iterator.next();
    if (r.done) break;
    events.push(r.value);
  }
  return events;
}

beforeAll(async () => {
  etcd = await startEtcd();
  raw = new Etcd3({ hosts: etcd.endpoints });
});

afterAll(async () => {
  for (const r of registries) r.close();
  raw?.close();
  await etcd?.stop();
});

describe('register', () => {
  it('writes a seed-format value bound to a lease', async () => {
    const r = fresh();
    const reg = await r.register({ service: 'user-service', id: 'u1', address: '10.0.1.5', port: 5001, tags: ['v1'], metadata: { zone: 'a' }, ttl: 10 });
    const stored = JSON.parse((await raw.get(`${r.prefix}user-service/u1`).string())!);
    expect(stored).toMatchObject({ service_id: 'u1', service_name: 'user-service', address: '10.0.1.5', port: 5001, tags: ['v1'], metadata: { zone: 'a' } });
    expect(stored.registered_at).toBeCloseTo(Date.now() / 1000, -1);
    const lease = await raw.leaseClient.leaseTimeToLive({ ID: BigInt(`0x${reg.lease}`).toString() });
    expect(Number(lease.TTL)).toBeGreaterThan(0);
    await reg.deregister();
  });

  it('refuses an id that a live registration holds, and changes nothing', async () => {
    const r = fresh();
    const first = await r.register({ service: 'web', id: 'w1', address: '127.0.0.1', port: 1, ttl: 10 });
    const before = await raw.get(`${r.prefix}web/w1`).string();
    await expect(r.register({ service: 'web', id: 'w1', address: '127.0.0.2', port: 2, ttl: 10 })).rejects.toBeInstanceOf(AlreadyRegisteredError);
    expect(await raw.get(`${r.prefix}web/w1`).string()).toBe(before);
    await first.deregister();
  });

  it('replace takes over a live registration', async () => {
    const r = fresh();
    const first = await r.register({ service: 'web', id: 'w1', address: '127.0.0.1', port: 1, ttl: 10 });
    const second = await r.register({ service: 'web', id: 'w1', address: '127.0.0.2', port: 2, ttl: 10, replace: true });
    expect(JSON.parse((await raw.get(`${r.prefix}web/w1`).string())!).port).toBe(2);
    // The old owner's revoke must not delete the new owner's key.
    await first.deregister();
    expect(await raw.get(`${r.prefix}web/w1`).string()).not.toBeNull();
    await second.deregister();
  });

  it('deregister removes the key at once', async () => {
    const r = fresh();
    const reg = await r.register({ service: 'web', id: 'w1', address: '127.0.0.1', port: 1, ttl: 30 });
    await reg.deregister();
    expect(await raw.get(`${r.prefix}web/w1`).string()).toBeNull();
  });

  it('keeps the key alive well past its TTL', async () => {
    const r = fresh();
    const reg = await r.register({ service: 'web', id: 'w1', address: '127.0.0.1', port: 1, ttl: 2 });
    await new Promise((res) => setTimeout(res, 5000));
    expect(await raw.get(`${r.prefix}web/w1`).string()).not.toBeNull();
    await reg.deregister();
  });

  it('re-registers by itself when its lease disappears', async () => {
    const r = fresh();
    const reg = await r.register({ service: 'web', id: 'w1', address: '127.0.0.1', port: 1, ttl: 3 });
    const events: string[] = [];
    reg.on('lost', () => events.push('lost'));
    const reregistered = new Promise((res) => reg.on('reregistered', res));
    const oldLease = reg.lease;
    await raw.leaseClient.leaseRevoke({ ID: BigInt(`0x${oldLease}`).toString() });
    expect(await raw.get(`${r.prefix}web/w1`).string()).toBeNull();
    await reregistered;
    expect(events).toEqual(['lost']);
    expect(reg.lease).not.toBe(oldLease);
    expect(await raw.get(`${r.prefix}web/w1`).string()).not.toBeNull();
    await reg.deregister();
  });
});

describe('list and discover', () => {
  it('counts instances per service and reports malformed entries without dropping them', async () => {
    const r = fresh();
    const a = await r.register({ service: 'a', id: '1', address: '127.0.0.1', port: 1 });
    const b = await r.register({ service: 'a', id: '2', address: '127.0.0.1', port: 2 });
    await raw.put(`${r.prefix}b/bad`).value('not json');
    await raw.put(`${r.prefix}wrong-depth`).value('{}');
    const listing = await r.list();
    expect(listing.services).toEqual([
      { service: 'a', instances: 2, healthy: 2, malformed: 0 },
      { service: 'b', instances: 0, healthy: 0, malformed: 1 },
      { service: 'wrong-depth', instances: 0, healthy: 0, malformed: 1 },
    ]);
    expect(listing.malformed.map((m) => m.key).sort()).toEqual([`${r.prefix}b/bad`, `${r.prefix}wrong-depth`]);
    await a.deregister();
    await b.deregister();
  });

  it('discover reads exactly one service, never a prefix sibling', async () => {
    const r = fresh();
    await raw.put(`${r.prefix}foo/1`).value(JSON.stringify({ service_id: '1', service_name: 'foo', address: 'h', port: 1, registered_at: 1 }));
    await raw.put(`${r.prefix}foobar/1`).value(JSON.stringify({ service_id: '1', service_name: 'foobar', address: 'h', port: 2, registered_at: 1 }));
    const { instances } = await r.discover('foo');
    expect(instances.map((i) => i.service_name)).toEqual(['foo']);
  });

  it('lists more than gRPC’s 4 MB default in one consistent snapshot', async () => {
    const r = fresh();
    const pad = 'x'.repeat(1000);
    const total = 6000; // ~6.5 MB of values
    for (let i = 0; i < total; i += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, j) =>
          raw.put(`${r.prefix}big/${i + j}`).value(JSON.stringify({ service_id: String(i + j), service_name: 'big', address: 'h', port: 1, registered_at: 1, pad })),
        ),
      );
    }
    const { instances, malformed } = await r.listInstances();
    expect(instances).toHaveLength(total);
    expect(malformed).toHaveLength(0);
  });
});

describe('waitFor', () => {
  it('returns when an instance registered after the read arrives', async () => {
    const r = fresh();
    const waiting = r.waitFor('web', { min: 1, timeoutMs: 20_000 });
    await new Promise((res) => setTimeout(res, 500));
    const reg = await r.register({ service: 'web', id: 'late', address: '127.0.0.1', port: 1 });
    const { instances } = await waiting;
    expect(instances.map((i) => i.service_id)).toEqual(['late']);
    await reg.deregister();
  });

  it('throws NotFoundError when the timeout passes first', async () => {
    const r = fresh();
    const started = Date.now();
    await expect(r.waitFor('web', { timeoutMs: 500 })).rejects.toBeInstanceOf(NotFoundError);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('watch', () => {
  it('streams PUT and DELETE in revision order, a DELETE naming the instance that left', async () => {
    const r = fresh();
    const it = r.watch('web')[Symbol.asyncIterator]();
    const first = it.next();
    await new Promise((res) => setTimeout(res, 300));
    const reg = await r.register({ service: 'web', id: 'w1', address: '127.0.0.1', port: 7 });
    await reg.deregister();
    const events = [(await first).value as WatchEvent, ...(await take(it, 1))];
    await it.return?.(undefined);
    expect(events.map((e) => e.type)).toEqual(['PUT', 'DELETE']);
    const [put, del] = events as Extract<WatchEvent, { type: 'PUT' | 'DELETE' }>[];
    expect(put.instance?.port).toBe(7);
    expect(del.prev?.service_id).toBe('w1');
    expect(del.revision).toBeGreaterThan(put.revision);
  });

  it('replays history from a start revision', async () => {
    const r = fresh();
    const put = await raw.put(`${r.prefix}web/a`).value(JSON.stringify({ service_id: 'a', service_name: 'web', address: 'h', port: 1, registered_at: 1 })).exec();
    await raw.delete().key(`${r.prefix}web/a`).exec();
    const events = await take(r.watch(undefined, { startRevision: Number(put.header.revision) })[Symbol.asyncIterator](), 2);
    expect(events.map((e) => e.type)).toEqual(['PUT', 'DELETE']);
  });

  it('delivers every event exactly once across cut connections', async () => {
    const proxy = await TcpProxy.start(etcd.members[0].config.clientPort);
    try {
      const r = fresh({ endpoints: [proxy.url], timeoutMs: 2000 });
      let disconnects = 0;
      let reconnects = 0;
      const onStatus = (s: { state: string }) => void (s.state === 'disconnected' ? disconnects++ : reconnects++);
      const it = r.watch(undefined, { onStatus })[Symbol.asyncIterator]();
      const ids: string[] = [];
      const consumer = (async () => {
        for (let e = await it.next(); !e.done; e = await it.next()) {
          if (e.value.type !== 'PUT') throw new Error(`unexpected ${e.value.type}`);
          if (e.value.id === 'end') return;
          ids.push(e.value.id!);
        }
      })();
      await new Promise((res) => setTimeout(res, 300));
      let cutting = true;
      let written = 0;
      const put = (id: string) => raw.put(`${r.prefix}s/${id}`).value(JSON.stringify({ service_id: id, service_name: 's', address: 'h', port: 1, registered_at: 1 })).exec();
      const writer = (async () => {
        for (; cutting || written < 200; written++) {
          await put(String(written));
          await new Promise((res) => setTimeout(res, 2));
        }
        await put('end');
      })();
      for (let cut = 1; cut <= 5; cut++) {
        await new Promise((res) => setTimeout(res, 100));
        proxy.cut();
        await new Promise((res) => setTimeout(res, 300));
        proxy.restore();
        await until('the watcher reconnects', () => reconnects >= cut);
      }
      cutting = false;
      await writer;
      await consumer;
      await it.return?.(undefined);
      expect(ids).toEqual(Array.from({ length: written }, (_, i) => String(i)));
      expect(disconnects).toBeGreaterThanOrEqual(5);
    } finally {
      await proxy.close();
    }
  });

  it('after a compaction it missed, emits RESYNC and the difference, then continues', async () => {
    const proxy = await TcpProxy.start(etcd.members[0].config.clientPort);
    try {
      const r = fresh({ endpoints: [proxy.url], timeoutMs: 2000 });
      const value = (id: string) => JSON.stringify({ service_id: id, service_name: 's', address: 'h', port: 1, registered_at: 1 });
      await raw.put(`${r.prefix}s/gone`).value(value('gone'));
      const it = r.watch()[Symbol.asyncIterator]();
      const pending = it.next();
      await new Promise((res) => setTimeout(res, 300));
      proxy.cut();
      await raw.delete().key(`${r.prefix}s/gone`).exec();
      await raw.put(`${r.prefix}s/new`).value(value('new'));
      const last = await raw.put(`${r.prefix}s/tmp`).value(value('tmp')).exec();
      await raw.delete().key(`${r.prefix}s/tmp`).exec();
      await raw.kv.compact({ revision: Number(last.header.revision) + 1, physical: true });
      proxy.restore();
      const events = [(await pending).value as WatchEvent, ...(await take(it, 2))];
      expect(events[0]).toMatchObject({ type: 'RESYNC' });
      const diff = events.slice(1).map((e) => (e.type === 'RESYNC' ? 'RESYNC' : `${e.type} ${e.id} ${e.resync}`)).sort();
      expect(diff).toEqual(['DELETE gone true', 'PUT new true']);
      // ...and it keeps streaming live events afterwards.
      const after = it.next();
      await raw.put(`${r.prefix}s/after`).value(value('after'));
      expect(((await after).value as WatchEvent & { id: string }).id).toBe('after');
      await it.return?.(undefined);
    } finally {
      await proxy.close();
    }
  });
});

describe('health checks (library)', () => {
  it('a registration with a check starts critical, reports health events, and discover follows it', async () => {
    const r = fresh();
    const dir = mkdtempSync(join(tmpdir(), 'svcreg-lib-check-'));
    try {
      const flag = join(dir, 'ok');
      const reg = await r.register({ service: 'web', id: 'w1', address: '127.0.0.1', port: 1, health: { cmd: `test -f ${flag}`, intervalMs: 200, failures: 1 } });
      expect(reg.health?.status).toBe('critical');
      expect((await r.discover('web')).instances).toHaveLength(0);
      expect((await r.discover('web', {}, { all: true })).instances).toHaveLength(1);
      const passing = new Promise((res) => reg.on('health', (h: { status: string }) => h.status === 'passing' && res(h)));
      writeFileSync(flag, '');
      await passing;
      expect((await r.discover('web')).instances.map((i) => i.service_id)).toEqual(['w1']);
      await reg.markCritical('maintenance');
      expect((await r.discover('web')).instances).toHaveLength(0);
      await reg.deregister();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('purge', () => {
  it('deletes only entries unchanged since they were listed', async () => {
    const r = fresh();
    const v = (id: string) => JSON.stringify({ service_id: id, service_name: 'web', address: 'h', port: 1, registered_at: 1 });
    await raw.put(`${r.prefix}web/a`).value(v('a'));
    await raw.put(`${r.prefix}web/b`).value(v('b'));
    const plan = await r.planPurge({ service: 'web' });
    await raw.put(`${r.prefix}web/b`).value(v('b')); // re-registered after the listing
    const result = await r.purge(plan);
    expect(result.deleted.map((e) => e.id)).toEqual(['a']);
    expect(result.skipped.map((e) => e.id)).toEqual(['b']);
    expect(await raw.get(`${r.prefix}web/b`).string()).not.toBeNull();
  });

  it('across many batches, deletes every unchanged entry and skips exactly the changed ones', async () => {
    const r = fresh();
    const v = (id: string) => JSON.stringify({ service_id: id, service_name: 'web', address: 'h', port: 1, registered_at: 1 });
    const ids = Array.from({ length: 350 }, (_, i) => `i${String(i).padStart(3, '0')}`);
    await Promise.all(ids.map((id) => raw.put(`${r.prefix}web/${id}`).value(v(id))));
    const plan = await r.planPurge({ service: 'web' });
    const changed = ['i007', 'i150', 'i151', 'i349'];
    for (const id of changed) await raw.put(`${r.prefix}web/${id}`).value(v(id));
    const progress: number[] = [];
    const result = await r.purge(plan, { onProgress: (n) => progress.push(n) });
    expect(result.skipped.map((e) => e.id)).toEqual(changed);
    expect(result.deleted.map((e) => e.id)).toEqual(ids.filter((id) => !changed.includes(id)));
    expect((await raw.getAll().prefix(`${r.prefix}web/`).keys()).sort()).toEqual(changed.map((id) => `${r.prefix}web/${id}`));
    expect(Math.max(...progress)).toBe(350);
  });
});
