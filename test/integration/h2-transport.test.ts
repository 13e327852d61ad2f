// svcreg's gRPC over node:http2 (grpc.ts, grpc-channel.ts), against real etcd members:
// every call it makes, large answers across many DATA frames, watch streams with
// backpressure, deadlines on a frozen member, and auth tokens that expire.
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../src/etcd/connection.js';
import { GrpcTransport, type WatchStream } from '../../src/etcd/grpc.js';
import { Deadline } from '../../src/etcd/deadline.js';
import { monotonicMs } from '../../src/etcd/timers.js';
import { EtcdRequestError, GrpcStatus } from '../../src/etcd/transport.js';
import type { WatchResponse } from '../../src/etcd/watch-messages.js';
import { enableAuth } from '../harness/auth.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';

const within = (ms: number) => Deadline.in(ms, () => new EtcdRequestError('no answer within the deadline', GrpcStatus.DEADLINE_EXCEEDED));
const soon = () => within(5000);
const key = (k: string) => Buffer.from(k);

/** A watch stream whose responses are collected, with a way to wait for the next ones. */
function collect(transport: GrpcTransport) {
  const responses: WatchResponse[] = [];
  const state: { error?: Error; ended: boolean } = { ended: false };
  const stream: WatchStream = transport.watch(
    { data: (r) => responses.push(r), error: (e) => (state.error = e), end: () => (state.ended = true) },
    5000,
  );
  const until = async (done: () => boolean, timeoutMs = 10_000) => {
    const end = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > end || state.error) throw state.error ?? new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const events = () => responses.flatMap((r) => r.events);
  return { stream, responses, state, until, events };
}

describe('gRPC over http2, one member', () => {
  let etcd: EtcdCluster;
  let transport: GrpcTransport;
  beforeAll(async () => {
    etcd = await startEtcd();
    transport = new GrpcTransport(etcd.endpoints, undefined, undefined);
  });
  afterAll(async () => {
    transport?.close();
    await etcd?.stop();
  });

  it('grants a lease, writes a key bound to it if absent, renews and revokes it, with the lease id exact', async () => {
    const lease = await transport.leaseGrant(10, soon());
    expect(lease.ttl).toBe(10);
    expect(BigInt(lease.id) > 0n).toBe(true);
    const k = key('/h2/a/1');
    const put = { request_put: { key: k, value: Buffer.from('{"v":1}'), lease: lease.id } };
    const created = await transport.txn({ compare: [{ key: k, target: 'Create', create_revision: 0 }], success: [put], failure: [{ request_range: { key: k } }] }, soon());
    expect(created).toEqual({ succeeded: true, ranges: [] });
    const again = await transport.txn({ compare: [{ key: k, target: 'Create', create_revision: 0 }], success: [put], failure: [{ request_range: { key: k } }] }, soon());
    expect(again.succeeded).toBe(false);
    expect(again.ranges[0]).toMatchObject([{ key: k, lease: lease.id }]);
    expect(await transport.leaseKeepAlive(lease.id, soon())).toBe(10);
    const read = await transport.range({ key: k }, soon());
    expect(read.kvs.map((kv) => [kv.value.toString(), kv.lease])).toEqual([['{"v":1}', lease.id]]);
    await transport.leaseRevoke(lease.id, soon());
    expect((await transport.range({ key: k }, soon())).kvs).toEqual([]);
    expect(await transport.leaseKeepAlive(lease.id, soon())).toBe(0);
  });

  it('reads a page of several MB, which spans many DATA frames, whole', async () => {
    const value = Buffer.alloc(4000, 'x');
    for (let i = 0; i < 1500; i += 100) {
      const success = Array.from({ length: 100 }, (_, j) => ({ request_put: { key: key(`/h2/big/${String(i + j).padStart(5, '0')}`), value } }));
      await transport.txn({ compare: [], success }, soon());
    }
    const page = await transport.listPage({ key: key('/h2/big/'), range_end: key('/h2/big0') }, soon());
    expect(page.kvs).toHaveLength(1500);
    expect(page.kvs.every((kv, i) => kv.key.toString() === `/h2/big/${String(i).padStart(5, '0')}` && kv.value.equals(value))).toBe(true);
  });

  it('fails a request etcd refuses with its status code and message', async () => {
    const err = (await transport.range({ key: key('/h2/'), revision: 1_000_000 }, soon()).catch((e) => e)) as EtcdRequestError;
    expect(err.code).toBe(11); // OUT_OF_RANGE
    expect(err.message).toMatch(/future revision/);
  });

  it('streams watch events in order; paused, it delivers nothing until resumed, then everything', async () => {
    const w = collect(transport);
    w.stream.write({ create_request: { key: key('/h2/w/'), range_end: key('/h2/w0'), prev_kv: true } });
    await w.until(() => w.responses.some((r) => r.created));
    const first = await transport.txn({ compare: [], success: [{ request_put: { key: key('/h2/w/k'), value: Buffer.from('1') } }] }, soon());
    expect(first.succeeded).toBe(true);
    await w.until(() => w.events().length === 1);
    w.stream.pause();
    const before = w.events().length;
    const big = Buffer.alloc(100_000, 'y');
    for (let i = 0; i < 30; i++) await transport.txn({ compare: [], success: [{ request_put: { key: key('/h2/w/k'), value: big } }] }, soon());
    await new Promise((r) => setTimeout(r, 300));
    expect(w.events().length).toBe(before);
    w.stream.resume();
    await w.until(() => w.events().length === 31);
    const revisions = w.events().map((e) => Number(e.kv.mod_revision));
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(w.events()[2].prev_kv?.value.length).toBe(100_000);
    w.stream.cancel();
  });

  it('a deadline passes on a frozen member, and the session recovers once it thaws', async () => {
    const member = etcd.members[0];
    member.freeze();
    try {
      const started = monotonicMs();
      const deadline = within(500);
      const err = (await deadline.race(transport.range({ key: key('/h2/') }, deadline)).catch((e) => e)) as EtcdRequestError;
      expect(err.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
      expect(monotonicMs() - started).toBeLessThan(1500);
    } finally {
      member.thaw();
    }
    expect((await transport.range({ key: key('/h2/a/') }, soon())).revision).not.toBe('0');
  });
});

describe('gRPC over http2 with auth tokens that expire, gateway off', () => {
  let etcd: EtcdCluster;
  let root: Etcd3;
  let conn: Connection;
  beforeAll(async () => {
    etcd = await startEtcd({ extraArgs: ['--enable-grpc-gateway=false', '--auth-token', 'simple', '--auth-token-ttl', '2'] });
    root = await enableAuth(etcd.endpoints, 'svc', 'pw');
    conn = await Connection.open({ endpoints: [etcd.endpoints], auth: { username: 'svc', password: 'pw' }, timeoutMs: 3000 });
  });
  afterAll(async () => {
    conn?.close();
    root?.close();
    await etcd?.stop();
  });

  it('authenticates, and authenticates again once etcd has forgotten the token', async () => {
    const put = (v: string) => conn.call('put', (t, d) => t.txn({ compare: [], success: [{ request_put: { key: key('/services/h2/a'), value: Buffer.from(v) } }] }, d));
    expect((await put('1')).succeeded).toBe(true);
    await new Promise((r) => setTimeout(r, 3000)); // the token expires
    expect((await put('2')).succeeded).toBe(true);
    expect(await root.get('/services/h2/a').string()).toBe('2');
  });

  it('a watch stream carries the token', async () => {
    const responses: WatchResponse[] = [];
    const { stream } = await conn.watchStream({ data: (r) => responses.push(r), error: () => undefined, end: () => undefined });
    stream.write({ create_request: { key: key('/services/h2/'), range_end: key('/services/h20') } });
    const until = async (done: () => boolean) => {
      const end = Date.now() + 10_000;
      while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    };
    await until(() => responses.length > 0);
    await root.put('/services/h2/b').value('x');
    await until(() => responses.some((r) => r.events.length > 0));
    expect(responses[0]).toMatchObject({ created: true, canceled: false });
    expect(responses.flatMap((r) => r.events).map((e) => e.kv.key.toString())).toEqual(['/services/h2/b']);
    stream.cancel();
  });

  it('a user without permission on a key is refused with PERMISSION_DENIED', async () => {
    const err = (await conn.call('read', (t, d) => t.range({ key: key('/elsewhere') }, d)).catch((e) => e)) as Error & { cause?: EtcdRequestError };
    expect(err.cause?.code).toBe(GrpcStatus.PERMISSION_DENIED);
  });
});
