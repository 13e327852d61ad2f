import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli, startCli } from '../harness/cli.js';
import { makeCerts, type Certs } from '../harness/certs.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';

let certs: Certs;
let etcd: EtcdCluster;

beforeAll(async () => {
  certs = makeCerts();
  etcd = await startEtcd({ tls: certs });
});

afterAll(async () => {
  await etcd?.stop();
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
});

const tlsFlags = () => ['--endpoints', etcd.endpoints, '--cacert', certs.caFile, '--cert', certs.clientCertFile, '--key', certs.clientKeyFile];

it('register, discover and list work over mTLS with --cacert/--cert/--key', async () => {
  const reg = startCli([...tlsFlags(), 'register', 'secure', '--id', 's1', '--address', '127.0.0.1', '--port', '443']);
  try {
    await reg.waitFor(/registered/);
    const found = await runCli([...tlsFlags(), 'discover', 'secure', '-o', 'addr']);
    expect(found.code).toBe(0);
    expect(found.stdout).toBe('127.0.0.1:443\n');
    const listed = await runCli([...tlsFlags(), 'list', '-o', 'json']);
    expect(JSON.parse(listed.stdout)).toEqual([{ service: 'secure', instances: 1, healthy: 1, malformed: 0 }]);
  } finally {
    await reg.stop();
  }
});

it('watch and purge work over mTLS', async () => {
  const reg = startCli([...tlsFlags(), 'register', 'tlswatch', '--id', 't1', '--address', '127.0.0.1', '--port', '443']);
  try {
    await reg.waitFor(/registered/);
    const watched = await runCli([...tlsFlags(), 'watch', 'tlswatch', '--rev', '1', '--count', '1', '-o', 'ndjson']);
    expect(watched.code, watched.stderr).toBe(0);
    expect(JSON.parse(watched.stdout)).toMatchObject({ type: 'PUT', key: '/services/tlswatch/t1' });
    const purged = await runCli([...tlsFlags(), 'purge', 'tlswatch', '--yes', '-o', 'json']);
    expect(purged.code, purged.stderr).toBe(0);
    expect(JSON.parse(purged.stdout).deleted).toHaveLength(1);
  } finally {
    await reg.stop();
  }
});

it('takes the TLS files from SVCREG_CACERT, SVCREG_CERT and SVCREG_KEY', async () => {
  const r = await runCli(['--endpoints', etcd.endpoints, 'list'], { SVCREG_CACERT: certs.caFile, SVCREG_CERT: certs.clientCertFile, SVCREG_KEY: certs.clientKeyFile });
  expect(r.code).toBe(0);
});

it('TLS files with an http:// endpoint are refused (exit 2), never silently ignored', async () => {
  const r = await runCli(['--endpoints', etcd.endpoints.replace('https:', 'http:'), '--cacert', certs.caFile, 'list']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/https/);
});

it('without a client certificate the handshake fails with a non-zero exit within the timeout', async () => {
  const r = await runCli(['--endpoints', etcd.endpoints, '--cacert', certs.caFile, '--timeout', '2s', 'list']);
  expect(r.code).not.toBe(0);
  expect(r.ms).toBeLessThan(10_000);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/TLS: etcd rejected the client certificate/);
});

it('a CA that did not sign the server certificate fails, naming the TLS problem', async () => {
  const other = makeCerts('another-ca');
  try {
    const r = await runCli(['--endpoints', etcd.endpoints, '--cacert', other.caFile, '--cert', certs.clientCertFile, '--key', certs.clientKeyFile, '--timeout', '2s', 'list']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/TLS: the server certificate is not signed by --cacert/);
  } finally {
    rmSync(other.dir, { recursive: true, force: true });
  }
});

it('plain http:// to a TLS endpoint fails within the timeout, pointing at https://', async () => {
  const r = await runCli(['--endpoints', etcd.endpoints.replace('https:', 'http:'), '--timeout', '2s', 'list']);
  expect(r.code).toBe(3);
  expect(r.ms).toBeLessThan(10_000);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/closed the connection without answering; if it serves TLS, use https:\/\/ with --cacert/);
});

it('a client certificate from another CA is rejected, naming the TLS problem', async () => {
  const other = makeCerts('another-ca');
  try {
    const r = await runCli(['--endpoints', etcd.endpoints, '--cacert', certs.caFile, '--cert', other.clientCertFile, '--key', other.clientKeyFile, '--timeout', '2s', 'list']);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/TLS: etcd rejected the client certificate/);
  } finally {
    rmSync(other.dir, { recursive: true, force: true });
  }
});
