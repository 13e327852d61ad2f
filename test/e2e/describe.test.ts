/** `svcreg describe <service> <id>`: one entry in full, as stored, with its lease's time left. */
import { Etcd3 } from 'etcd3';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { runCli, startCli } from '../harness/cli.js';

let etcd: EtcdCluster;
let client: Etcd3;
let env: Record<string, string>;

beforeAll(async () => {
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.endpoints });
  env = { SVCREG_ENDPOINTS: etcd.endpoints };
});

afterAll(async () => {
  client?.close();
  await etcd?.stop();
});

const stored = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ service_id: 'w1', service_name: 'web', address: '127.0.0.1', port: 8001, tags: ['v1', 'canary'], metadata: { zone: 'a' }, registered_at: 1764000000.5, ...extra });

describe('describe', () => {
  it('-o json prints the stored record whole, with the key, lease, time left and revisions as etcd has them', async () => {
    const lease = client.lease(60, { autoKeepAlive: false });
    await lease.put('/services/web/w1').value(stored({ health: { status: 'passing', output: 'HTTP 200', checked_at: 1764000100 }, weight: 5 }));
    const r = await runCli(['describe', 'web', 'w1', '-o', 'json'], env);
    expect(r.code).toBe(0);
    const record = JSON.parse(r.stdout);
    const kv = (await client.get('/services/web/w1').exec()).kvs[0];
    expect(record).toMatchObject({ ...JSON.parse(stored()), key: '/services/web/w1', weight: 5, health: { status: 'passing', output: 'HTTP 200' } });
    expect(record.lease).toBe(BigInt(await lease.grant()).toString(16));
    expect(record.create_revision).toBe(Number(kv.create_revision));
    expect(record.mod_revision).toBe(Number(kv.mod_revision));
    expect(record.ttl_left).toBeGreaterThan(50);
    expect(record.ttl_left).toBeLessThanOrEqual(60);
    await lease.revoke();
  });

  it('shows every field for a person: address, tags, metadata, health with its output and time, age, lease and revisions', async () => {
    const lease = client.lease(60, { autoKeepAlive: false });
    await lease.put('/services/web/w1').value(stored({ health: { status: 'critical', output: 'HTTP 503', checked_at: 1764000100 }, weight: 5 }));
    const r = await runCli(['describe', 'web', 'w1'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Key:\s+\/services\/web\/w1$/m);
    expect(r.stdout).toMatch(/^Address:\s+127\.0\.0\.1:8001$/m);
    expect(r.stdout).toMatch(/^Tags:\s+v1, canary$/m);
    expect(r.stdout).toMatch(/^Metadata:\s+zone=a$/m);
    expect(r.stdout).toMatch(/^Health:\s+critical \(HTTP 503\), checked 2025-11-24 16:01:40Z \(\d+d ago\)$/m);
    expect(r.stdout).toMatch(/^Registered:\s+2025-11-24 16:00:00Z \(\d+d ago\)$/m);
    expect(r.stdout).toMatch(new RegExp(`^Lease:\\s+${BigInt(await lease.grant()).toString(16)} \\((59|60)s left\\)$`, 'm'));
    expect(r.stdout).toMatch(/^Revisions:\s+created \d+, modified \d+$/m);
    expect(r.stdout).toMatch(/^Other fields:\s+weight=5$/m);
    await lease.revoke();
  });

  it('says when the key has no lease, and when an entry is malformed, what is wrong with it', async () => {
    await client.put('/services/web/bare').value(stored({ service_id: 'bare' }));
    expect((await runCli(['describe', 'web', 'bare'], env)).stdout).toMatch(/^Lease:\s+none \(the key never expires\)$/m);
    await client.put('/services/web/bad').value('not json');
    const r = await runCli(['describe', 'web', 'bad'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Problem:\s+malformed: value is not JSON$/m);
    expect(r.stdout).toMatch(/^Value:\s+not json$/m);
    await client.delete().prefix('/services/web/');
  });

  it('shows what another writer stored escaped, never raw control characters', async () => {
    await client.put('/services/web/evil').value(stored({ service_id: 'evil', tags: ['\u001b[2J'], metadata: { '\u001b]0;x\u0007': '\u009b31m' }, health: { status: 'passing', output: 'ok\r\nforged: line' } }));
    const r = await runCli(['describe', 'web', 'evil'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(r.stdout).toContain('\\x1b[2J');
    expect(r.stdout).toContain('ok\\r\\nforged: line');
    await client.delete().key('/services/web/evil');
  });

  it('-o yaml and -o template see the same record as -o json', async () => {
    await client.put('/services/web/y1').value(stored({ service_id: 'y1' }));
    const yaml = await runCli(['describe', 'web', 'y1', '-o', 'yaml'], env);
    expect(parseYaml(yaml.stdout)).toEqual(JSON.parse((await runCli(['describe', 'web', 'y1', '-o', 'json'], env)).stdout));
    expect((await runCli(['describe', 'web', 'y1', '-o', 'template={{ key }} {{ ttl_left }}'], env)).stdout).toBe('/services/web/y1 ');
    await client.delete().key('/services/web/y1');
  });

  it('exits 4 when nothing is stored at that key, and 2 for an id that is not one key segment', async () => {
    const absent = await runCli(['describe', 'web', 'nope'], env);
    expect(absent.code).toBe(4);
    expect(absent.stderr).toMatch(/no instance web\/nope is registered/);
    expect((await runCli(['describe', 'web', 'a/b'], env)).code).toBe(2);
  });

  it('exits 3 within its timeout when etcd does not answer', async () => {
    const p = startCli(['describe', 'web', 'w1', '--timeout', '1s'], { SVCREG_ENDPOINTS: 'http://127.0.0.1:1' });
    const r = await p.exited;
    expect(r.code).toBe(3);
    expect(r.ms).toBeLessThan(5000);
  });
});
