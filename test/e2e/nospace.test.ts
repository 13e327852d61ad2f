/**
 * etcd refusing writes: a NOSPACE alarm raised for real, by filling an etcd started
 * with a small --quota-backend-bytes, and alarms raised through etcd's Alarm API (a
 * CORRUPT alarm cannot be provoked on purpose). New writes exit 8 with one line
 * saying how to clear the alarm; lease renewals and deletes, which etcd still
 * accepts, go on.
 */
import { AlarmType, Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { fill, raiseAlarm, SMALL_QUOTA } from '../harness/alarms.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const started: CliProcess[] = [];

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
});

function register(endpoints: string, id: string, extra: string[] = []) {
  return ['--endpoints', endpoints, '--timeout', '2s', 'register', 'web', '--id', id, '--address', '127.0.0.1', '--port', '80', ...extra];
}

/** The one line a refused register prints, checked for its exit code and advice. */
function expectRefused(result: { code: number | null; stderr: string }, alarm: RegExp): void {
  expect(result.code, result.stderr).toBe(8);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(alarm);
  expect(lines[0]).toMatch(/etcdctl alarm disarm/);
}

describe('an etcd whose database is full (NOSPACE)', () => {
  let etcd: EtcdCluster;
  let raw: Etcd3;
  let before: CliProcess;
  beforeAll(async () => {
    etcd = await startEtcd({ extraArgs: SMALL_QUOTA });
    raw = new Etcd3({ hosts: etcd.endpoints });
    await raw.put('/services/old/x').value(JSON.stringify({ service_id: 'x', service_name: 'old', address: '10.0.0.1', port: 1, tags: [], metadata: {}, registered_at: 1 }));
    before = startCli(register(etcd.endpoints, 'before', ['--ttl', '2', '-o', 'ndjson']));
    started.push(before);
    await before.waitFor(/"event":"registered"/);
    await fill(etcd.endpoints);
  });
  afterAll(async () => {
    raw?.close();
    await etcd?.stop();
  });

  it('a new register exits 8 with one line saying how to clear the alarm', async () => {
    const result = await runCli(register(etcd.endpoints, 'after'));
    expectRefused(result, /NOSPACE/);
    expect(result.stderr).toMatch(/etcdctl compact/);
    expect(result.stderr).toMatch(/etcdctl defrag/);
    expect(await raw.get('/services/web/after').string()).toBeNull();
  });

  it('a registrant started before the alarm keeps its key alive past its TTL', async () => {
    const lease = (await raw.get('/services/web/before').exec()).kvs[0]?.lease;
    expect(lease).toBeDefined();
    await sleep(3 * 2000);
    const kv = (await raw.get('/services/web/before').exec()).kvs[0];
    expect(kv?.lease).toBe(lease);
    expect(before.child.exitCode).toBeNull();
    expect(before.stdout).not.toMatch(/"event":"lost"/);
  });

  it('purge still deletes', async () => {
    const result = await runCli(['--endpoints', etcd.endpoints, 'purge', 'old', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(await raw.get('/services/old/x').string()).toBeNull();
  });
});

describe('an etcd with a CORRUPT alarm', () => {
  let etcd: EtcdCluster;
  let raw: Etcd3;
  beforeAll(async () => {
    etcd = await startEtcd();
    raw = new Etcd3({ hosts: etcd.endpoints });
    await raiseAlarm(raw, AlarmType.Corrupt);
  });
  afterAll(async () => {
    raw?.close();
    await etcd?.stop();
  });

  it('register exits 8 with one line naming the alarm and how to clear it', async () => {
    expectRefused(await runCli(register(etcd.endpoints, 'corrupt')), /CORRUPT/);
  });
});

describe('an etcd with its JSON gateway off and a NOSPACE alarm', () => {
  let etcd: EtcdCluster;
  let raw: Etcd3;
  beforeAll(async () => {
    etcd = await startEtcd({ extraArgs: ['--enable-grpc-gateway=false'] });
    raw = new Etcd3({ hosts: etcd.endpoints });
    await raiseAlarm(raw, AlarmType.Nospace);
  });
  afterAll(async () => {
    raw?.close();
    await etcd?.stop();
  });

  it('register over gRPC exits 8 too', async () => {
    expectRefused(await runCli(register(etcd.endpoints, 'grpc')), /NOSPACE/);
  });
});
