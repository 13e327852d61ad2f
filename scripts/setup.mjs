#!/usr/bin/env node
// Installs what `npm test`, `npm run demo` and `npm run bench` need on a fresh machine:
// npm dependencies when node_modules is missing or stale, and Debian's etcd-server
// package when no etcd is on PATH (plus etcdctl and GNU time with --bench).
// `--etcd35` instead makes etcd 3.5 (Debian 13's packages, unpacked into `.etcd/3.5/`; see
// scripts/etcd35.mjs) available beside the system's 3.4 and prints the path of its etcd
// binary, alone, on stdout: `ETCD_BIN=$(node scripts/setup.mjs --etcd35)`.
// Uses Node builtins only (it runs before npm install).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (text) => process.stderr.write(`setup: ${text}\n`);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', process.stderr, process.stderr] });
const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

const marker = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(join(root, 'package-lock.json')).mtimeMs) {
  say('installing npm dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

if (process.argv.includes('--etcd35')) {
  const { ensureEtcd35 } = await import('./etcd35.mjs');
  try {
    const etcd35 = ensureEtcd35();
    say(`etcd ${etcd35.version}: ${etcd35.etcd}`);
    process.stdout.write(`${etcd35.etcd}\n`);
    process.exit(0);
  } catch (err) {
    say(`cannot make etcd 3.5 available: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
}

// Debian packages this run needs, by the command each provides. `--test` adds faketime
// (libfaketime steps a registrant's wall clock in the clock tests), zsh and fish (the
// completion scripts are tested in each shell), nginx and prometheus (render's real
// consumers) and etcdctl (the reference `watch -- command` handlers are compared with);
// `--bench` adds etcdctl (the benchmark's yardstick) and GNU time (peak memory).
const needed = [[process.env.ETCD_BIN ?? 'etcd', 'etcd-server']];
if (process.argv.includes('--test')) {
  needed.push(['faketime', 'faketime'], ['zsh', 'zsh'], ['fish', 'fish'], ['nginx', 'nginx-light'], ['prometheus', 'prometheus'], ['etcdctl', 'etcd-client']);
}
if (process.argv.includes('--bench')) needed.push(['etcdctl', 'etcd-client'], ['/usr/bin/time', 'time']);
const missing = needed.filter(([cmd]) => !onPath(cmd)).map(([, pkg]) => pkg);
if (missing.length > 0) {
  if (process.getuid?.() !== 0) {
    say(`missing: ${missing.join(' ')}. Install with: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  say(`installing ${missing.join(' ')} (Debian packages)`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', ...missing]);
  // etcd-server starts a system etcd on the default port; tests, demo and bench use their own.
  if (missing.includes('etcd-server')) spawnSync('sh', ['-c', 'systemctl stop etcd 2>/dev/null || service etcd stop 2>/dev/null || true'], { stdio: 'ignore' });
  // So do nginx (port 80), prometheus (9090) and its node exporter (9100): the tests start their own on free loopback ports.
  const services = [...(missing.includes('nginx-light') ? ['nginx'] : []), ...(missing.includes('prometheus') ? ['prometheus', 'prometheus-node-exporter'] : [])];
  for (const service of services) spawnSync('sh', ['-c', `systemctl stop ${service} 2>/dev/null || service ${service} stop 2>/dev/null || true`], { stdio: 'ignore' });
}
