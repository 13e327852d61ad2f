/**
 * Supervisor mode: health checks run by `svcreg register`, readiness in discover/list/watch,
 * and drain on shutdown. Real processes: an HTTP server whose health can be flipped, a
 * closed (then opened) TCP port, a command check on a file.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../harness/cli.js';
import { freePort, startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { until } from '../harness/until.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let etcd: EtcdCluster;
let raw: Etcd3;
let n = 0;
const started: CliProcess[] = [];

/** An HTTP server on a free loopback port whose /health answers 200 or 503. */
async function flippable(healthy: boolean): Promise<{ url: string; set(healthy: boolean): void; close(): Promise<void> }> {
  let state = healthy;
  const server: Server = createHttpServer((_req, res) => {
    res.writeHead(state ? 200 : 503);
    res.end(state ? 'ok' : 'unhealthy');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/health`,
    set: (h) => (state = h),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function flags(): { prefix: string; args: string[] } {
  const prefix = `/sup-${++n}/`;
  return { prefix, args: ['--endpoints', etcd.endpoints, '--prefix', prefix] };
}

function register(args: string[]): CliProcess {
  const p = startCli(['register', ...args]);
  started.push(p);
  return p;
}

async function healthOf(key: string): Promise<string | undefined> {
  const value = await raw.get(key).string();
  return value ? JSON.parse(value).health?.status : undefined;
}

beforeAll(async () => {
  etcd = await startEtcd();
  raw = new Etcd3({ hosts: etcd.endpoints });
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  raw?.close();
  await etcd?.stop();
});

describe('health checks', () => {
  it('an instance is critical until its first HTTP check passes, and discover skips it until then', async () => {
    const server = await flippable(false);
    try {
      const { prefix, args } = flags();
      const p = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', '--check-http', server.url, '--check-interval', '200ms', '--check-failures', '1', ...args]);
      await p.waitFor(/registered/);
      expect(await healthOf(`${prefix}web/w1`)).toBe('critical');
      const skipped = await runCli(['discover', 'web', ...args]);
      expect(skipped.code).toBe(4);
      expect(skipped.stderr).toMatch(/no passing instance.*--all/);
      const all = await runCli(['discover', 'web', '--all', '-o', 'json', ...args]);
      expect(JSON.parse(all.stdout)[0].health).toMatchObject({ status: 'critical' });
      server.set(true);
      await until('passing', async () => (await healthOf(`${prefix}web/w1`)) === 'passing');
      const found = await runCli(['discover', 'web', '-o', 'addr', ...args]);
      expect(found.stdout).toBe('127.0.0.1:80\n');
      expect(JSON.parse((await raw.get(`${prefix}web/w1`).string())!).health.output).toMatch(/HTTP 200/);
    } finally {
      await server.close();
    }
  });

  it('a passing instance turns critical only after --check-failures failures in a row', async () => {
    const server = await flippable(true);
    try {
      const { prefix, args } = flags();
      const p = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', '--check-http', server.url, '--check-interval', '1s', '--check-failures', '3', '-o', 'ndjson', ...args]);
      await until('passing', async () => (await healthOf(`${prefix}web/w1`)) === 'passing');
      server.set(false);
      await sleep(250); // at most one failed check so far: three take at least 2 s
      expect(await healthOf(`${prefix}web/w1`)).toBe('passing');
      await until('critical', async () => (await healthOf(`${prefix}web/w1`)) === 'critical');
      // The event is printed once etcd has answered the write, a moment after others can read it.
      // The registered line holds "critical" already (no check had run): wait for the health event.
      await p.waitFor(/"event":"health"[^\n]*"status":"critical"/);
      const events = p.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(events.filter((e) => e.event === 'health').map((e) => e.status)).toEqual(['passing', 'critical']);
    } finally {
      await server.close();
    }
  });

  it('a TCP check fails on a closed port and passes once something listens', async () => {
    const { prefix, args } = flags();
    const port = await freePort();
    register(['db', '--id', 'd1', '--address', '127.0.0.1', '--port', String(port), '--check-tcp', `127.0.0.1:${port}`, '--check-interval', '200ms', '--check-failures', '1', ...args]);
    await until('registered', async () => (await healthOf(`${prefix}db/d1`)) !== undefined);
    await sleep(500);
    expect(await healthOf(`${prefix}db/d1`)).toBe('critical');
    const listener = createTcpServer((s) => s.destroy());
    await new Promise<void>((r) => listener.listen(port, '127.0.0.1', r));
    try {
      await until('passing', async () => (await healthOf(`${prefix}db/d1`)) === 'passing');
    } finally {
      await new Promise((r) => listener.close(r));
    }
  });

  it('a command check passes on exit 0 and fails otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svcreg-check-'));
    const flag = join(dir, 'ready');
    try {
      const { prefix, args } = flags();
      register(['job', '--id', 'j1', '--address', '127.0.0.1', '--port', '1', '--check-cmd', `test -f ${flag}`, '--check-interval', '200ms', '--check-failures', '1', ...args]);
      await until('registered', async () => (await healthOf(`${prefix}job/j1`)) !== undefined);
      writeFileSync(flag, '');
      await until('passing', async () => (await healthOf(`${prefix}job/j1`)) === 'passing');
      rmSync(flag);
      await until('critical', async () => (await healthOf(`${prefix}job/j1`)) === 'critical');
      expect(existsSync(flag)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('list shows healthy and total counts per service', async () => {
    const good = await flippable(true);
    const bad = await flippable(false);
    try {
      const { prefix, args } = flags();
      register(['api', '--id', 'good', '--address', '127.0.0.1', '--port', '1', '--check-http', good.url, '--check-interval', '200ms', ...args]);
      register(['api', '--id', 'bad', '--address', '127.0.0.1', '--port', '2', '--check-http', bad.url, '--check-interval', '200ms', ...args]);
      await until('good passing', async () => (await healthOf(`${prefix}api/good`)) === 'passing');
      await until('bad registered', async () => (await healthOf(`${prefix}api/bad`)) === 'critical');
      const r = await runCli(['list', '-o', 'json', ...args]);
      expect(JSON.parse(r.stdout)).toEqual([{ service: 'api', instances: 2, healthy: 1, malformed: 0 }]);
    } finally {
      await good.close();
      await bad.close();
    }
  });

  it('watch shows health changes as PUT events', async () => {
    const server = await flippable(false);
    try {
      const { args } = flags();
      const watch = await etcd.startWatching(() => {
        const w = startCli(['watch', 'web', '-o', 'ndjson', ...args]);
        started.push(w);
        return w;
      });
      register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', '--check-http', server.url, '--check-interval', '200ms', ...args]);
      await watch.waitFor(/"status":"critical"/);
      server.set(true);
      await watch.waitFor(/"status":"passing"/);
      const puts = watch.stdout.trim().split('\n').map((l) => JSON.parse(l));
      const statuses = puts.map((e) => `${e.type} ${e.instance.health.status}`);
      // Registered critical, then the first check's result (critical, with its output), then passing.
      expect(statuses.at(-1)).toBe('PUT passing');
      expect(new Set(statuses.slice(0, -1))).toEqual(new Set(['PUT critical']));
    } finally {
      await server.close();
    }
  });

  it('rejects check options without a check, and malformed checks, with exit 2', async () => {
    const { args } = flags();
    for (const bad of [['--check-interval', '1s'], ['--check-tcp', 'nohost'], ['--check-http', 'ftp://x'], ['--check-cmd', 'true', '--check-failures', '0'], ['--drain', 'soon'], ['--kill-timeout', 'soon'], ['--kill-timeout', '0s']]) {
      const r = await runCli(['register', 'web', '--port', '1', ...bad, ...args]);
      expect(r.code, `${bad.join(' ')}: ${r.stderr}`).toBe(2);
    }
  });
});

describe('drain', () => {
  const child = `process.on('SIGTERM', () => { console.log('child stopping'); process.exit(0); }); console.log('child up'); setInterval(() => {}, 1000)`;

  it('on SIGTERM marks the instance critical at once, waits, then stops the child and deregisters', async () => {
    const server = await flippable(true);
    try {
      const { prefix, args } = flags();
      const p = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', '--check-http', server.url, '--check-interval', '200ms', '--drain', '3s', ...args, '--', process.execPath, '-e', child]);
      await p.waitFor(/child up/);
      await until('passing', async () => (await healthOf(`${prefix}web/w1`)) === 'passing');
      const signalled = Date.now();
      p.signal('SIGTERM');
      await until('critical', async () => (await healthOf(`${prefix}web/w1`)) === 'critical', 2000);
      // Critical within 2 s of the signal, while the 3 s drain still holds the child.
      expect(p.stdout).not.toMatch(/child stopping/);
      expect((await runCli(['discover', 'web', ...args])).code).toBe(4);
      await p.waitFor(/child stopping/, { timeoutMs: 15_000 });
      expect(Date.now() - signalled).toBeGreaterThanOrEqual(2900);
      const result = await p.exited;
      expect(result.code).toBe(0);
      expect(await raw.get(`${prefix}web/w1`).string()).toBeNull();
    } finally {
      await server.close();
    }
  });

  it('a second signal skips the drain wait', async () => {
    const { prefix, args } = flags();
    const p = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', '--drain', '30s', ...args, '--', process.execPath, '-e', child]);
    await p.waitFor(/child up/);
    p.signal('SIGTERM');
    await p.waitFor(/draining/, { stream: 'stderr' });
    const second = Date.now();
    p.signal('SIGTERM');
    const result = await p.exited;
    expect(Date.now() - second).toBeLessThan(5000);
    expect(result.stdout).toMatch(/child stopping/);
    expect(result.code).toBe(0);
    expect(await raw.get(`${prefix}web/w1`).string()).toBeNull();
  });

  it('without a command, drain marks critical, waits, then deregisters and exits 0', async () => {
    const { prefix, args } = flags();
    const p = register(['web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', '--drain', '1s', ...args]);
    await p.waitFor(/registered/);
    p.signal('SIGINT');
    await until('critical', async () => (await healthOf(`${prefix}web/w1`)) === 'critical', 2000);
    const result = await p.exited;
    expect(result.code).toBe(0);
    expect(await raw.get(`${prefix}web/w1`).string()).toBeNull();
  });
});

describe('CI smoke check', () => {
  it('discover --wait --min 2 waits for two passing instances', async () => {
    const server = await flippable(false);
    try {
      const { args } = flags();
      for (const id of ['a', 'b']) register(['web', '--id', id, '--address', '127.0.0.1', '--port', '80', '--check-http', server.url, '--check-interval', '200ms', ...args]);
      const wait = startCli(['discover', 'web', '--wait', '--min', '2', '--wait-timeout', '30s', '-o', 'json', ...args]);
      started.push(wait);
      await sleep(1500);
      expect(wait.child.exitCode).toBeNull(); // registered, but not passing yet
      server.set(true);
      const result = await wait.exited;
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).map((i: { service_id: string }) => i.service_id).sort()).toEqual(['a', 'b']);
    } finally {
      await server.close();
    }
  });
});
