/**
 * `render` with a real consumer: nginx, started by the test on a loopback port, its whole
 * configuration rendered from the registry, checked with `nginx -t` before it is
 * installed and reloaded after. Requests through nginx must reach exactly the backends
 * registered (real `svcreg register -- node server.js` processes).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../harness/cli.js';
import { freePort, startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { serverScript, startBackend, type Backend } from '../harness/http-backend.js';
import { TcpProxy } from '../harness/proxy.js';
import { until } from '../harness/until.js';

let etcd: EtcdCluster;
let proxy: TcpProxy;
let dir: string;
let nginx: ChildProcess | undefined;
let renderer: CliProcess | undefined;
let port: number;
let script: string;
const backends = new Map<string, Backend>();
const env = () => ({ SVCREG_ENDPOINTS: etcd.endpoints, SVCREG_PREFIX: '/nginx-test/' });

/** nginx's own flags: everything under the test's directory, errors on stderr. */
const nginxArgs = (file: string) => ['-p', dir, '-e', 'stderr', '-c', file];
/** The configuration render installs and nginx runs. */
const conf = () => join(dir, 'nginx.conf');

beforeAll(async () => {
  etcd = await startEtcd();
  proxy = await TcpProxy.start(Number(new URL(etcd.members[0].clientUrl).port));
  dir = mkdtempSync(join(tmpdir(), 'svcreg-nginx-'));
  script = serverScript(dir);
  port = await freePort();
  // The whole configuration is rendered, so `nginx -t -c $SVCREG_RENDERED` checks exactly what is installed.
  // No instance gives an upstream with no server, which nginx rejects: the check keeps it out.
  writeFileSync(
    join(dir, 'nginx.liquid'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  upstream web {
{%- for i in service.web.instances %}
    server {{ i.addr }} max_fails=0;  # {{ i.id }}
{%- endfor %}
  }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://web; proxy_next_upstream error timeout; proxy_connect_timeout 1s; }
  }
}
`,
  );
}, 60_000);

afterAll(async () => {
  await renderer?.stop();
  for (const b of backends.values()) await b.registrant.stop();
  if (nginx && nginx.exitCode === null) {
    nginx.kill('SIGTERM');
    await new Promise((r) => nginx!.once('exit', r));
  }
  await proxy?.close();
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function addBackend(id: string): Promise<void> {
  backends.set(id, await startBackend(script, 'web', id, env()));
}

async function removeBackend(id: string): Promise<void> {
  await backends.get(id)!.registrant.stop();
  backends.delete(id);
}

/** Which backends 24 requests through nginx reached (round robin reaches each of a few). */
async function reached(): Promise<string[]> {
  const ids = new Set<string>();
  for (let i = 0; i < 24; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
      ids.add(res.ok ? await res.text() : `HTTP ${res.status}`);
    } catch (err) {
      ids.add(`failed: ${(err as Error).message}`);
    }
  }
  return [...ids].sort();
}

/** Waits until the installed configuration's upstream lists exactly `ids` (its `# id` comments). */
async function untilFileNames(ids: string[]): Promise<void> {
  const named = () => [...readFileSync(conf(), 'utf8').matchAll(/max_fails=0;  # (\S+)/g)].map((m) => m[1]).sort();
  await until(`the rendered file to name exactly ${JSON.stringify(ids)}`, () => JSON.stringify(named()) === JSON.stringify([...ids].sort()), 20_000);
}

/** Waits until requests reach exactly `ids` (nginx reloads its workers in the background). */
async function reachesExactly(ids: string[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last: string[] = [];
  while (Date.now() < deadline) {
    last = await reached();
    if (JSON.stringify(last) === JSON.stringify([...ids].sort())) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`nginx reached ${JSON.stringify(last)}, not ${JSON.stringify(ids)}\nrender stderr: ${renderer?.stderr}`);
}

describe('render with nginx', () => {
  const check = () => `nginx -t -q ${nginxArgs('"$SVCREG_RENDERED"').join(' ')}`;
  const reload = () => `nginx -s reload ${nginxArgs(conf()).join(' ')}`;

  it('renders an upstream block nginx accepts and serves: requests reach exactly the registered backends', async () => {
    await addBackend('b1');
    await addBackend('b2');
    const once = await runCli(['render', join(dir, 'nginx.liquid'), '--out', conf(), '--check', check(), '--once'], env());
    expect(once.code, once.stderr).toBe(0);
    expect(readFileSync(conf(), 'utf8')).toMatch(/server 127\.0\.0\.1:\d+ max_fails=0;  # b1\n\s+server 127\.0\.0\.1:\d+ max_fails=0;  # b2/);
    nginx = spawn('nginx', [...nginxArgs(conf()), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    await reachesExactly(['b1', 'b2']);
  });

  it('after a new registration, --exec reloads nginx and requests reach the new backend too', async () => {
    renderer = startCli(['render', join(dir, 'nginx.liquid'), '--out', conf(), '--check', check(), '--exec', reload(), '--timeout', '1s'], {
      ...env(),
      SVCREG_ENDPOINTS: proxy.url,
    });
    await renderer.waitFor(/is current at revision/, { stream: 'stderr' });
    await addBackend('b3');
    await reachesExactly(['b1', 'b2', 'b3']);
  });

  it('after a deregistration, requests no longer reach the backend that left', async () => {
    await removeBackend('b1');
    await reachesExactly(['b2', 'b3']);
    await untilFileNames(['b2', 'b3']);
  });

  it('during an etcd outage nginx keeps routing to the last good set, and gets the changes once etcd answers', async () => {
    proxy.cut();
    await renderer!.waitFor(/lost the connection to etcd.*keeping the last good/, { stream: 'stderr' });
    const before = readFileSync(conf(), 'utf8');
    await addBackend('b4'); // registered directly with etcd: the renderer cannot see it yet
    await new Promise((r) => setTimeout(r, 1500));
    expect(readFileSync(conf(), 'utf8')).toBe(before);
    await reachesExactly(['b2', 'b3']);
    proxy.restore();
    await reachesExactly(['b2', 'b3', 'b4']);
  });

  it('a configuration nginx -t rejects (an upstream with no server) is never installed: nginx keeps the last one', async () => {
    const [last, ...others] = [...backends.keys()];
    for (const id of others) await removeBackend(id);
    await reachesExactly([last]);
    // nginx passes over a stopped backend still in its file (proxy_next_upstream): wait for
    // the file itself to name only `last`, or a render still due would change it below.
    await untilFileNames([last]);
    const before = readFileSync(conf(), 'utf8');
    const stderrBefore = renderer!.stderr.length;
    await removeBackend(last);
    await renderer!.waitFor(/--check exited with 1/, { stream: 'stderr' });
    expect(renderer!.stderr.slice(stderrBefore)).toMatch(/no servers are inside upstream/);
    expect(readFileSync(conf(), 'utf8')).toBe(before);
    // Nothing staged is left beside it.
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // nginx still runs the last good configuration (whose backends have gone: 502).
    expect(spawnSync('nginx', ['-t', '-q', ...nginxArgs(conf())]).status).toBe(0);
    expect(existsSync(join(dir, 'nginx.pid'))).toBe(true);
  });
});
