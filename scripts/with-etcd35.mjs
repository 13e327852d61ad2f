#!/usr/bin/env node
// Runs one command against etcd 3.5 instead of the system's etcd:
//   node scripts/with-etcd35.mjs vitest run test/e2e
// Makes etcd 3.5 available first (scripts/etcd35.mjs: fetched once, then cached), then runs
// the command with ETCD_BIN naming its etcd (the test harness, demo and bench spawn
// `$ETCD_BIN`) and its bin directory first on PATH (so a bare `etcd` or `etcdctl` is 3.5
// too), and exits with the command's code.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { delimiter } from 'node:path';
import { ensureEtcd35 } from './etcd35.mjs';

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  process.stderr.write('usage: node scripts/with-etcd35.mjs COMMAND [ARGS...]\n');
  process.exit(2);
}
let etcd35;
try {
  etcd35 = ensureEtcd35();
} catch (err) {
  process.stderr.write(`with-etcd35: cannot make etcd 3.5 available: ${err instanceof Error ? err.message : err}\n`);
  process.exit(1);
}
process.stderr.write(`with-etcd35: etcd ${etcd35.version} (${etcd35.etcd}): ${[cmd, ...args].join(' ')}\n`);
const env = { ...process.env, ETCD_BIN: etcd35.etcd, ETCDCTL_BIN: etcd35.etcdctl, PATH: `${etcd35.binDir}${delimiter}${process.env.PATH ?? ''}` };
const child = spawn(cmd, args, { env, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('error', (err) => {
  process.stderr.write(`with-etcd35: ${cmd}: ${err.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
