import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';

let etcd: EtcdCluster;
const COUNT = 8000;

beforeAll(async () => {
  etcd = await startEtcd();
  const raw = new Etcd3({ hosts: etcd.endpoints });
  const value = (s: string, id: string) => JSON.stringify({ service_id: id, service_name: s, address: '10.0.0.1', port: 8080, tags: ['v1'], metadata: { zone: 'a' }, registered_at: 1 });
  for (let i = 0; i < COUNT; i += 1000) {
    await Promise.all(Array.from({ length: 1000 }, (_, j) => raw.put(`/services/svc-${(i + j) % 40}/i-${i + j}`).value(value(`svc-${(i + j) % 40}`, `i-${i + j}`))));
  }
  raw.close();
});

afterAll(async () => {
  await etcd?.stop();
});

// Several MB through a pipe: output queued for a slow reader must not be cut off at exit.
it('list --instances -o ndjson delivers every instance through a pipe', async () => {
  const r = await runCli(['--endpoints', etcd.endpoints, 'list', '--instances', '-o', 'ndjson']);
  expect(r.code).toBe(0);
  expect(r.stdout.trim().split('\n')).toHaveLength(COUNT);
});

it('list --instances -o json is one complete array through a pipe', async () => {
  const r = await runCli(['--endpoints', etcd.endpoints, 'list', '--instances', '-o', 'json']);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toHaveLength(COUNT);
});
