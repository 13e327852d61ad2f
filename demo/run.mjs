// `npm run demo`: the seed's example system on a throwaway etcd.
// Starts etcd on free loopback ports, registers user-service and order-service through
// `svcreg register ... -- node ...`, runs the client, shows list/discover/watch output,
// then stops everything it started and removes etcd's data.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, healthy, scratchDir, spawnEtcd } from '../scripts/etcd-process.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const svcreg = join(here, '..', 'bin', 'svcreg.js');
const children = [];
const dataDir = scratchDir();

const step = (text) => console.log(`\n== ${text}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts a long-running process whose output lines are prefixed with its name. */
function start(name, command, args, env = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (d) => {
      const parts = (rest + d).split('\n');
      rest = parts.pop();
      for (const line of parts) {
        lines.push(line);
        console.log(`  [${name}] ${line}`);
      }
    });
  }
  child.exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  child.waitFor = async (pattern) => {
    for (let i = 0; i < 300 && !lines.some((l) => pattern.test(l)); i++) await sleep(50);
    if (!lines.some((l) => pattern.test(l))) throw new Error(`${name} did not print ${pattern}`);
  };
  children.push(child);
  return child;
}

/** Runs svcreg to completion, echoing the command and its output. */
function svcregRun(args, env) {
  console.log(`$ svcreg ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [svcreg, ...args], { env, encoding: 'utf8' });
  process.stdout.write(r.stdout.replace(/^/gm, '  ').replace(/ {2}$/, ''));
  process.stdout.write(r.stderr.replace(/^/gm, '  ').replace(/ {2}$/, ''));
  console.log(`  (exit ${r.status})`);
}

async function main() {
  step('starting a throwaway etcd on loopback');
  const [clientPort, peerPort, userPort, orderPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const etcd = spawnEtcd({
    name: 'demo',
    clientPort,
    peerPort,
    dataDir: join(dataDir, 'etcd'),
    initialCluster: `demo=http://127.0.0.1:${peerPort}`,
    clusterToken: 'svcreg-demo',
  });
  children.push(etcd);
  const endpoint = `http://127.0.0.1:${clientPort}`;
  for (let i = 0; i < 200 && !(await healthy(endpoint)); i++) await sleep(50);
  if (!(await healthy(endpoint))) throw new Error('etcd did not start');
  console.log(`  etcd is up at ${endpoint} (data in ${dataDir})`);
  const env = { ...process.env, SVCREG_ENDPOINTS: endpoint, NO_COLOR: '1' };

  step('watching /services/ (svcreg watch)');
  const watcher = start('watch', process.execPath, [svcreg, 'watch'], env);
  await sleep(500);

  step('keeping an nginx-style upstreams file rendered from the registry (svcreg render)');
  const rendered = join(dataDir, 'upstreams.conf');
  const render = start('render', process.execPath, [
    svcreg, 'render', join(here, 'upstreams.liquid'), '--out', rendered, '--exec', `echo "installed ${rendered}:"; cat "$SVCREG_RENDERED"`,
  ], env);
  await render.waitFor(/installed/);

  step('registering user-service and order-service (svcreg register ... -- node ...)');
  const user = start('user-service', process.execPath, [
    svcreg, 'register', 'user-service', '--id', 'user-service-001', '--address', '127.0.0.1', '--port', String(userPort),
    '--tag', 'v1', '--meta', 'zone=a', '--ttl', '30', '--', process.execPath, join(here, 'user-service.mjs'),
  ], { ...env, PORT: String(userPort) });
  const order = start('order-service', process.execPath, [
    svcreg, 'register', 'order-service', '--id', 'order-service-001', '--address', '127.0.0.1', '--port', String(orderPort),
    '--tag', 'v1', '--', process.execPath, join(here, 'order-service.mjs'),
  ], { ...env, PORT: String(orderPort) });
  await Promise.all([user.waitFor(/^registered /), order.waitFor(/^registered /), user.waitFor(/listening/), order.waitFor(/listening/)]);

  step('what the registry holds');
  svcregRun(['list'], env);
  svcregRun(['list', '--instances'], env);
  svcregRun(['discover', 'user-service', '-o', 'json'], env);
  svcregRun(['discover', 'order-service', '-o', 'addr'], env);

  step('the client discovers the services and calls them (library API)');
  const client = spawnSync(process.execPath, [join(here, 'client.mjs')], { env, encoding: 'utf8' });
  process.stdout.write(client.stdout.replace(/^(?=.)/gm, '  [client] '));
  process.stderr.write(client.stderr);
  if (client.status !== 0) throw new Error('the client failed');

  step('order-service stops (SIGTERM): svcreg deregisters it at once, and the rendered file follows');
  order.kill('SIGTERM');
  await order.exited;
  await sleep(300);
  svcregRun(['discover', 'order-service'], env);
  await sleep(500);

  step('shutting down');
  user.kill('SIGTERM');
  await user.exited;
  await sleep(300);
  watcher.kill('SIGINT');
  await watcher.exited;
  render.kill('SIGTERM');
  await render.exited;
}

async function cleanup() {
  for (const child of children.reverse()) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(3000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
}

process.on('SIGINT', () => cleanup().then(() => process.exit(130)));
let code = 0;
try {
  await main();
  console.log('\n== done: every process the demo started is stopped, and its etcd data is removed');
} catch (err) {
  console.error(`demo failed: ${err.message}`);
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
