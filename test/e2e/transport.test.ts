// svcreg speaks to etcd through its JSON gateway, and through gRPC when a member has
// the gateway turned off. These tests turn it off and expect every command to work.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../harness/cli.js';
import { makeCerts, type Certs } from '../harness/certs.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { TcpProxy } from '../harness/proxy.js';

const NO_GATEWAY = ['--enable-grpc-gateway=false'];

describe('an etcd with its JSON gateway off', () => {
  let etcd: EtcdCluster;
  beforeAll(async () => {
    etcd = await startEtcd({ extraArgs: NO_GATEWAY });
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  it('register, discover, list, watch and purge all work over gRPC', async () => {
    const flags = ['--endpoints', etcd.endpoints];
    const watch = startCli([...flags, 'watch', 'plain', '--rev', '1', '--count', '2', '-o', 'ndjson']);
    const reg = startCli([...flags, 'register', 'plain', '--id', 'p1', '--address', '127.0.0.1', '--port', '80', '--ttl', '5']);
    try {
      await reg.waitFor(/^registered /);
      expect((await runCli([...flags, 'discover', 'plain', '-o', 'addr'])).stdout).toBe('127.0.0.1:80\n');
      expect(JSON.parse((await runCli([...flags, 'list', '-o', 'json'])).stdout)).toEqual([{ service: 'plain', instances: 1, healthy: 1, malformed: 0 }]);
      expect(JSON.parse((await runCli([...flags, 'list', '--instances', '-o', 'json'])).stdout)).toMatchObject([{ key: '/services/plain/p1' }]);
      // The revoke on SIGTERM goes over gRPC too: the key is gone as the process exits.
      expect((await reg.stop()).code).toBe(0);
      expect((await runCli([...flags, 'discover', 'plain'])).code).toBe(4);
      const events = (await watch.exited).stdout.trim().split('\n').map((l) => JSON.parse(l).type);
      expect(events).toEqual(['PUT', 'DELETE']);

      const again = startCli([...flags, 'register', 'plain', '--id', 'p2', '--address', '127.0.0.1', '--port', '81']);
      await again.waitFor(/^registered /);
      const purged = await runCli([...flags, 'purge', 'plain', '--yes', '-o', 'json']);
      expect(purged.code, purged.stderr).toBe(0);
      expect(JSON.parse(purged.stdout).deleted).toMatchObject([{ key: '/services/plain/p2' }]);
      await again.stop();
    } finally {
      await reg.stop();
      await watch.stop();
    }
  });
});

describe('a TLS etcd with its JSON gateway off', () => {
  let certs: Certs;
  let etcd: EtcdCluster;
  beforeAll(async () => {
    certs = makeCerts();
    etcd = await startEtcd({ tls: certs, extraArgs: NO_GATEWAY });
  });
  afterAll(async () => {
    await etcd?.stop();
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
  });

  it('register and discover work over gRPC with the client certificate', async () => {
    const flags = ['--endpoints', etcd.endpoints, '--cacert', certs.caFile, '--cert', certs.clientCertFile, '--key', certs.clientKeyFile];
    const reg = startCli([...flags, 'register', 'secure', '--id', 's1', '--address', '127.0.0.1', '--port', '443']);
    try {
      await reg.waitFor(/^registered /);
      expect((await runCli([...flags, 'discover', 'secure', '-o', 'addr'])).stdout).toBe('127.0.0.1:443\n');
    } finally {
      await reg.stop();
    }
  });

  it('without a client certificate it fails naming the TLS problem, as with the gateway on', async () => {
    const r = await runCli(['--endpoints', etcd.endpoints, '--cacert', certs.caFile, '--timeout', '2s', 'list']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/TLS: etcd rejected the client certificate/);
  });
});

describe('an IPv6 endpoint', () => {
  let etcd: EtcdCluster;
  let proxy: TcpProxy;
  beforeAll(async () => {
    etcd = await startEtcd();
    // etcd itself listens on 127.0.0.1; the proxy gives it an address on ::1.
    proxy = await TcpProxy.start(Number(new URL(etcd.endpoints).port), '::1');
  });
  afterAll(async () => {
    await proxy?.close();
    await etcd?.stop();
  });

  it('http://[::1]:port works for register, discover, list --instances and watch', async () => {
    const flags = ['--endpoints', proxy.url];
    expect(proxy.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    const reg = startCli([...flags, 'register', 'six', '--id', 'v6', '--address', '::1', '--port', '80']);
    try {
      await reg.waitFor(/^registered /);
      expect((await runCli([...flags, 'discover', 'six', '-o', 'addr'])).stdout).toBe('[::1]:80\n');
      expect(JSON.parse((await runCli([...flags, 'list', '--instances', '-o', 'json'])).stdout)).toMatchObject([{ key: '/services/six/v6' }]);
      const watched = await runCli([...flags, 'watch', 'six', '--rev', '1', '--count', '1', '-o', 'ndjson']);
      expect(JSON.parse(watched.stdout)).toMatchObject({ type: 'PUT', key: '/services/six/v6' });
    } finally {
      await reg.stop();
    }
  });
});
