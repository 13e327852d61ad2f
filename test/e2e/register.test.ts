import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';

let etcd: EtcdCluster;
let raw: Etcd3;
let n = 0;
const started: CliProcess[] = [];

/** Global flags for a fresh prefix of this file's etcd. */
function flags(): { prefix: string; args: string[] } {
  const prefix = `/reg-${++n}/`;
  return { prefix, args: ['--endpoints', etcd.endpoints, '--prefix', prefix] };
}

function register(args: string[]): CliProcess {
  const p = startCli(['register', ...args]);
  started.push(p);
  return p;
}

const get = (key: string) => raw.get(key).string();

beforeAll(async () => {
  etcd = await startEtcd();
  raw = new Etcd3({ hosts: etcd.endpoints });
});

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
  raw?.close();
  await etcd?.stop();
});

describe('svcreg register', () => {
  it('prints one line once the key is written, in the seed format', async () => {
    const { prefix, args } = flags();
    const p = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '8080', '--tag', 'v1', '--meta', 'zone=a', ...args]);
    await p.waitFor(/^registered \/reg-\d+\/web\/w1 at 127\.0\.0\.1:8080 \(lease [0-9a-f]+, ttl 30s\)\n$/);
    const value = JSON.parse((await get(`${prefix}web/w1`))!);
    expect(value).toMatchObject({ service_id: 'w1', service_name: 'web', address: '127.0.0.1', port: 8080, tags: ['v1'], metadata: { zone: 'a' } });
    expect(typeof value.registered_at).toBe('number');
    await p.stop();
  });

  it('-o json prints a registered object with key, lease, ttl and instance', async () => {
    const { prefix, args } = flags();
    const p = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', '--ttl', '10', '-o', 'json', ...args]);
    await p.waitFor(/\n/);
    const event = JSON.parse(p.stdout.split('\n')[0]);
    expect(event).toMatchObject({ event: 'registered', key: `${prefix}web/w1`, ttl: 10, instance: { service_id: 'w1', port: 80 } });
    expect(event.lease).toMatch(/^[0-9a-f]+$/);
    await p.stop();
  });

  it('defaults the id to <service>-<hostname>-<pid>, unique per process', async () => {
    const { prefix, args } = flags();
    const p = register(['web', '--address', '127.0.0.1', '--port', '80', ...args]);
    await p.waitFor(/registered/);
    const keys = await raw.getAll().prefix(`${prefix}web/`).keys();
    expect(keys).toEqual([expect.stringMatching(new RegExp(`^${prefix}web/web-.+-${p.pid}$`))]);
    await p.stop();
  });

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('on %s revokes the lease so the key is gone at once, and exits 0', async (signal) => {
    const { prefix, args } = flags();
    const p = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', ...args]);
    await p.waitFor(/registered/);
    p.signal(signal);
    const result = await p.exited;
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/deregistered/);
    expect(await get(`${prefix}web/w1`)).toBeNull();
  });

  it('a live duplicate id exits 5 and changes nothing', async () => {
    const { prefix, args } = flags();
    const first = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', ...args]);
    await first.waitFor(/registered/);
    const before = await get(`${prefix}web/w1`);
    const second = await runCli(['register', 'web', '--id', 'w1', '--address', '127.0.0.2', '--port', '81', ...args]);
    expect(second.code).toBe(5);
    expect(second.stderr).toMatch(/already registered/);
    expect(second.stdout).toBe('');
    expect(await get(`${prefix}web/w1`)).toBe(before);
    await first.stop();
  });

  it('--replace takes over a live registration', async () => {
    const { prefix, args } = flags();
    const first = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', ...args]);
    await first.waitFor(/registered/);
    const second = register(['web', '--id', 'w1', '--address', '127.0.0.2', '--port', '81', '--replace', ...args]);
    await second.waitFor(/registered/);
    expect(JSON.parse((await get(`${prefix}web/w1`))!).port).toBe(81);
    await first.stop();
    expect(await get(`${prefix}web/w1`)).not.toBeNull();
    await second.stop();
  });

  it('a registration whose key is purged re-registers itself', async () => {
    const { prefix, args } = flags();
    const p = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', '--ttl', '3', '-o', 'ndjson', ...args]);
    await p.waitFor(/"event":"registered"/);
    await raw.delete().key(`${prefix}web/w1`).exec();
    await p.waitFor(/"event":"reregistered"/, { timeoutMs: 10_000 });
    expect(p.stdout).toMatch(/"event":"lost".*the key was deleted/);
    expect(await get(`${prefix}web/w1`)).not.toBeNull();
    await p.stop();
  });

  it('a registrant whose key another one takes over with --replace exits 6', async () => {
    const { prefix, args } = flags();
    const first = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', '--ttl', '3', ...args]);
    await first.waitFor(/registered/);
    const second = register(['web', '--id', 'w1', '--address', '127.0.0.2', '--port', '81', '--replace', ...args]);
    await second.waitFor(/registered/);
    const result = await first.exited;
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/held by another registrant/);
    expect(JSON.parse((await get(`${prefix}web/w1`))!).port).toBe(81);
    await second.stop();
  });

  it('a registrant killed with -9 leaves a key that expires with its TTL', async () => {
    const { prefix, args } = flags();
    const p = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', '--ttl', '2', ...args]);
    await p.waitFor(/registered/);
    p.signal('SIGKILL');
    await p.exited;
    expect(await get(`${prefix}web/w1`)).not.toBeNull();
    const until = Date.now() + 10_000;
    while ((await get(`${prefix}web/w1`)) !== null && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(await get(`${prefix}web/w1`)).toBeNull();
  });

  it('an argument after the service without -- is rejected with exit 2', async () => {
    const { args } = flags();
    const result = await runCli(['register', 'web', 'extra', '--port', '80', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/after --/);
  });

  it('--port is required', async () => {
    const { args } = flags();
    const result = await runCli(['register', 'web', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--port is required/);
  });
});

describe('svcreg register -- command', () => {
  const node = (script: string) => ['--', process.execPath, '-e', script];

  it('runs the command with inherited stdio while the key exists, then deregisters and exits with its code', async () => {
    const { prefix, args } = flags();
    const script = `console.log('child says hi'); setTimeout(() => process.exit(3), 1500)`;
    const p = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', ...args, ...node(script)]);
    await p.waitFor(/child says hi/);
    expect(await get(`${prefix}web/w1`)).not.toBeNull();
    const result = await p.exited;
    expect(result.code).toBe(3);
    expect(await get(`${prefix}web/w1`)).toBeNull();
  });

  it('forwards SIGTERM to the child and exits with the child’s code', async () => {
    const { prefix, args } = flags();
    const script = `process.on('SIGTERM', () => { console.log('child got SIGTERM'); process.exit(0); }); console.log('ready'); setInterval(() => {}, 1000)`;
    const p = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', ...args, ...node(script)]);
    await p.waitFor(/ready/);
    p.signal('SIGTERM');
    const result = await p.exited;
    expect(result.stdout).toMatch(/child got SIGTERM/);
    expect(result.code).toBe(0);
    expect(await get(`${prefix}web/w1`)).toBeNull();
  });

  it('exits 128+n when the child is killed by signal n', async () => {
    const { args } = flags();
    const script = `console.log('pid', process.pid); setInterval(() => {}, 1000)`;
    const p = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', ...args, ...node(script)]);
    // Kill the child itself, not through svcreg, by the PID it reports.
    const [, childPid] = await p.waitFor(/pid (\d+)/);
    process.kill(Number(childPid), 'SIGKILL');
    expect((await p.exited).code).toBe(128 + 9);
  });

  it('exits 127 when the command cannot be started, and deregisters', async () => {
    const { prefix, args } = flags();
    const result = await runCli(['register', 'web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', ...args, '--', '/nonexistent/command']);
    expect(result.code).toBe(127);
    expect(result.stderr).toMatch(/cannot run \/nonexistent\/command/);
    expect(await get(`${prefix}web/w1`)).toBeNull();
  });

  it('stops the child and exits 6 when another registrant takes the key over', async () => {
    const { prefix, args } = flags();
    const script = `process.on('SIGTERM', () => { console.log('child stopping'); process.exit(0); }); console.log('ready'); setInterval(() => {}, 1000)`;
    const p = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', '--ttl', '3', ...args, ...node(script)]);
    await p.waitFor(/ready/);
    const second = register(['web', '--id', 'w1', '--address', '127.0.0.2', '--port', '81', '--replace', ...args]);
    await second.waitFor(/registered/);
    const result = await p.exited;
    expect(result.stdout).toMatch(/child stopping/);
    expect(result.code).toBe(6);
    expect(JSON.parse((await get(`${prefix}web/w1`))!).port).toBe(81);
    await second.stop();
  });

  it('does not start the command when the id is taken', async () => {
    const { args } = flags();
    const first = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', ...args]);
    await first.waitFor(/registered/);
    const result = await runCli(['register', 'web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', ...args, ...node(`console.log('should not run')`)]);
    expect(result.code).toBe(5);
    expect(result.stdout).not.toMatch(/should not run/);
    await first.stop();
  });
});
