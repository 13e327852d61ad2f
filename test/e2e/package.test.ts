/**
 * The package as a user installs it: `npm pack`, then `npm install -g` of the tarball into an
 * empty prefix, then the `svcreg` that npm linked and the library, used from there against a
 * real etcd. The CLI's libraries are inside its bundle, so the install fetches nothing: npm
 * runs with --offline here (tests talk to loopback only). It packs without `prepack`: `npm
 * test` has just built dist/, and a rebuild would remove it under the tests running beside
 * this one.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli, startCli } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

let etcd: EtcdCluster;
let dir: string;
let installed: string;
let library: string;

/** Runs the installed `svcreg`, as a shell on the user's PATH would. */
const svcreg = (args: string[], env: Record<string, string | undefined> = {}) => runCli(['--endpoints', etcd.endpoints, ...args], env, 30_000, installed);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'svcreg-package-'));
  // A cache of its own: the user's may be shared or read-only, and a tarball needs none.
  const npm = { cwd: root, env: { ...process.env, npm_config_update_notifier: 'false', npm_config_cache: join(dir, 'npm-cache') }, timeout: 90_000 };
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], npm);
  const [{ filename, files }] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  const paths = files.map((f) => f.path);
  // Guard: the tarball carries the launcher and the bundle it runs, not only package.json.
  expect(paths).toEqual(
    expect.arrayContaining(['bin/svcreg.js', 'bin/package.json', 'dist/cli/svcreg.cjs', 'dist/cli/THIRD-PARTY-LICENSES.txt', 'dist/index.js', 'dist/index.d.ts']),
  );
  // ...and not tsc's output for the CLI, which imports the libraries the package does not install.
  expect(paths.filter((path) => /^dist\/(main\.|cli\/(?!svcreg|vendor\/|THIRD-PARTY)|commands\/|output\/|supervise\/)/.test(path))).toEqual([]);
  await run('npm', ['install', '-g', '--offline', '--no-audit', '--no-fund', '--prefix', join(dir, 'prefix'), join(dir, filename)], npm);
  installed = join(dir, 'prefix', 'bin', 'svcreg');
  library = join(dir, 'prefix', 'lib', 'node_modules', 'svcreg');
  etcd = await startEtcd();
}, 180_000);

afterAll(async () => {
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('the svcreg that npm install -g links prints its help and version', async () => {
  const help = await svcreg(['--help']);
  expect(help.code, help.stderr).toBe(0);
  expect(help.stdout).toMatch(/Usage: svcreg/);
  expect((await svcreg(['--version'])).stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
});

it('the installed svcreg registers, discovers and watches against etcd', async () => {
  const registered = await svcreg(['register', 'packaged', '--id', 'p1', '--address', '127.0.0.1', '--port', '7001', '-o', 'json', '--', 'sh', '-c', 'sleep 1']);
  expect(registered.code, registered.stderr).toBe(0);
  expect(registered.stdout.trim().split('\n').map((line) => JSON.parse(line).event)).toEqual(['registered', 'deregistered']);
  expect(JSON.parse(registered.stdout.split('\n')[0])).toMatchObject({ event: 'registered', key: '/services/packaged/p1', instance: { port: 7001 } });
  const watched = await svcreg(['watch', 'packaged', '--rev', '1', '--count', '2', '-o', 'ndjson']);
  expect(watched.code, watched.stderr).toBe(0);
  expect(watched.stdout.trim().split('\n').map((line) => JSON.parse(line).type)).toEqual(['PUT', 'DELETE']);
  // Deregistered when the child exited: nothing left to discover.
  expect((await svcreg(['discover', 'packaged'])).code).toBe(4);
});

it('the installed package brings nothing beside itself, and names the licences of what its bundle carries', () => {
  expect(existsSync(join(library, 'node_modules'))).toBe(false);
  const notices = readFileSync(join(library, 'dist', 'cli', 'THIRD-PARTY-LICENSES.txt'), 'utf8');
  for (const name of ['commander', 'chalk', 'ora', 'yaml', 'liquidjs']) expect(notices).toMatch(new RegExp(`^${name}@\\d+\\.\\d+\\.\\d+ \\((MIT|ISC)\\)$`, 'm'));
});

it('the installed library, imported by its package name, reads the registry', async () => {
  const script = `import { Registry } from 'svcreg';
    const registry = new Registry({ endpoints: [process.argv[1]] });
    const listing = await registry.discover('packaged-lib');
    registry.close();
    console.log(JSON.stringify(listing.instances.map((i) => i.service_id)));`;
  const registrant = startCli(['register', 'packaged-lib', '--id', 'lib1', '--address', '127.0.0.1', '--port', '7002'], { SVCREG_ENDPOINTS: etcd.endpoints });
  try {
    await registrant.waitFor(/lib1/);
    const read = await run(process.execPath, ['--input-type=module', '-e', script, etcd.endpoints], { cwd: join(dir, 'prefix', 'lib'), timeout: 30_000 });
    expect(JSON.parse(read.stdout)).toEqual(['lib1']);
  } finally {
    await registrant.stop();
  }
});

it('the installed launcher starts Node without reading NODE_EXTRA_CA_CERTS', async () => {
  const started = await svcreg(['--version'], { NODE_EXTRA_CA_CERTS: '/nonexistent/extra-ca.pem' });
  expect(started.code).toBe(0);
  expect(started.stderr).toBe('');
});
