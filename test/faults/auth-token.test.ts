/**
 * An etcd whose auth tokens expire after 2 s: keepalives and watch reconnects must
 * re-authenticate by themselves (etcd3 does so only for unary calls).
 */
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enableAuth } from '../harness/auth.js';
import { startCli, type CliProcess } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { TcpProxy } from '../harness/proxy.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PASSWORD = 'pw';
let etcd: EtcdCluster;
let root: Etcd3;
let proxy: TcpProxy;
const started: CliProcess[] = [];

beforeAll(async () => {
  etcd = await startEtcd({ extraArgs: ['--auth-token', 'simple', '--auth-token-ttl', '2'] });
  root = await enableAuth(etcd.endpoints, 'svc', PASSWORD);
  proxy = await TcpProxy.start(etcd.members[0].config.clientPort);
});

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
  await proxy?.close();
  root?.close();
  await etcd?.stop();
});

function cli(args: string[]): CliProcess {
  const p = startCli(['--user', 'svc', '--timeout', '1s', ...args], { SVCREG_PASSWORD: PASSWORD });
  started.push(p);
  return p;
}

it('a registration outlives many token lifetimes without losing its lease', async () => {
  const p = cli(['--endpoints', etcd.endpoints, 'register', 'web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', '--ttl', '2', '-o', 'ndjson']);
  await p.waitFor(/"event":"registered"/);
  for (let i = 0; i < 8; i++) {
    await sleep(1000);
    expect(await root.get('/services/web/w1').string()).not.toBeNull();
  }
  expect(p.stdout).not.toMatch(/"event":"lost"/);
  expect(p.child.exitCode).toBeNull();
});

it('a watch reconnecting after its token expired re-authenticates and misses nothing', async () => {
  const value = (id: string) => JSON.stringify({ service_id: id, service_name: 'api', address: 'h', port: 1, registered_at: 1 });
  const watch = await etcd.startWatching(() => cli(['--endpoints', proxy.url, 'watch', 'api', '-o', 'ndjson']));
  await root.put('/services/api/a').value(value('a'));
  await watch.waitFor(/"id":"a"/);
  await sleep(3000); // the token it connected with has expired
  proxy.cut();
  await root.put('/services/api/b').value(value('b'));
  proxy.restore();
  await watch.waitFor(/"id":"b"/, { timeoutMs: 20_000 });
  await root.put('/services/api/c').value(value('c'));
  await watch.waitFor(/"id":"c"/);
  const ids = watch.stdout.trim().split('\n').map((l) => JSON.parse(l).id);
  expect(ids).toEqual(['a', 'b', 'c']);
});
