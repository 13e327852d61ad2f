/**
 * `-o wide`: the lease, the time it has left and the revisions of every entry, read
 * through the JSON gateway and through gRPC (a member without the gateway).
 */
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../../src/index.js';
import { runCli } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';

/** The table's rows as cells, by the header's column names. */
function rows(stdout: string): Record<string, string>[] {
  const [head, ...lines] = stdout.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
  return lines.map((cells) => Object.fromEntries(head.map((h, i) => [h, cells[i]])));
}

for (const [name, extraArgs] of [
  ['the JSON gateway', []],
  ['gRPC (no gateway)', ['--enable-grpc-gateway=false']],
] as const) {
  describe(`-o wide through ${name}`, () => {
    let etcd: EtcdCluster;
    let registry: Registry;
    beforeAll(async () => {
      etcd = await startEtcd({ extraArgs: [...extraArgs] });
      registry = new Registry({ endpoints: [etcd.endpoints] });
      await registry.register({ service: 'web', id: 'w1', address: '10.0.0.1', port: 80, ttl: 60 });
      const raw = new Etcd3({ hosts: etcd.endpoints });
      await raw.put('/services/web/bare').value(JSON.stringify({ service_id: 'bare', service_name: 'web', address: '10.0.0.2', port: 81, registered_at: 1 }));
      raw.close();
    });
    afterAll(async () => {
      registry?.close();
      await etcd?.stop();
    });

    it('discover shows each lease with the seconds it has left, and no TTL for an entry without a lease', async () => {
      const r = await runCli(['--endpoints', etcd.endpoints, 'discover', 'web', '-o', 'wide']);
      expect(r.code, r.stderr).toBe(0);
      const byId = Object.fromEntries(rows(r.stdout).map((row) => [row.ID, row]));
      expect(byId.w1.LEASE).toMatch(/^[0-9a-f]+$/);
      const left = Number(/^(\d+)s$/.exec(byId.w1.TTL)?.[1]);
      expect(left).toBeGreaterThan(30);
      expect(left).toBeLessThanOrEqual(60);
      expect(byId.bare.LEASE).toBe('none');
      expect(byId.bare.TTL).toBe('-');
    });

    it('list --instances shows the same TTL column', async () => {
      const r = await runCli(['--endpoints', etcd.endpoints, 'list', '--instances', '-o', 'wide']);
      expect(r.code, r.stderr).toBe(0);
      const w1 = rows(r.stdout).find((row) => row.ID === 'w1')!;
      expect(w1.TTL).toMatch(/^\d+s$/);
    });
  });
}
