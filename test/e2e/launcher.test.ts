/**
 * bin/svcreg.js run as a program (as a shell runs `svcreg`): its launcher line starts Node
 * without NODE_EXTRA_CA_CERTS, so that Node does not read the file and its own root
 * certificates on every start, and the CLI puts the variable back: for its own TLS
 * connections, trusted as Node would have trusted it, and for the commands it runs.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN, cliEnv, runCli, startCli, type CliResult } from '../harness/cli.js';
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

/** The CLI started by Node itself (`node bin/svcreg.js`), which reads NODE_EXTRA_CA_CERTS as it starts. */
function runWithNode(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: 0 })));
}

/** mTLS to the test etcd with no --cacert: the server's CA must come from somewhere else. */
const withoutCacert = () => ['--endpoints', etcd.endpoints, '--cert', certs.clientCertFile, '--key', certs.clientKeyFile];

it('Node started through the launcher does not read NODE_EXTRA_CA_CERTS as it starts', async () => {
  const env = { NODE_EXTRA_CA_CERTS: '/nonexistent/extra-ca.pem' };
  // Guard: Node that reads the file at start says so when it cannot.
  expect((await runWithNode(['--version'], env)).stderr).toMatch(/Ignoring extra certs from `\/nonexistent\/extra-ca.pem`/);
  const launched = await runCli(['--version'], env);
  expect(launched.code).toBe(0);
  expect(launched.stderr).toBe('');
});

it('an https:// endpoint without --cacert trusts the CA in NODE_EXTRA_CA_CERTS, over the gateway and over gRPC', async () => {
  const env = { NODE_EXTRA_CA_CERTS: certs.caFile };
  const registered = await runCli([...withoutCacert(), 'register', 'extra-ca', '--address', '127.0.0.1', '--port', '1', '--', 'true'], env);
  expect(registered.code, registered.stderr).toBe(0);
  const listed = await runCli([...withoutCacert(), 'list', '-o', 'json'], env);
  expect(listed.code, listed.stderr).toBe(0);
  // The first event in etcd's history: the registration's PUT.
  const watched = await runCli([...withoutCacert(), 'watch', '--rev', '1', '--count', '1', '-o', 'ndjson'], env);
  expect(watched.code, watched.stderr).toBe(0);
  expect(JSON.parse(watched.stdout)).toMatchObject({ type: 'PUT', service: 'extra-ca' });
  // Guard: without the variable, nothing else made the test CA trusted.
  const refused = await runCli([...withoutCacert(), 'list', '-o', 'json']);
  expect(refused.code).toBe(3);
  expect(refused.stderr).toMatch(/not signed by --cacert/);
});

it('the CA in NODE_EXTRA_CA_CERTS is trusted the same when Node loaded it itself (node bin/svcreg.js)', async () => {
  const listed = await runWithNode([...withoutCacert(), 'list', '-o', 'json'], { NODE_EXTRA_CA_CERTS: certs.caFile });
  expect(listed.code, listed.stderr).toBe(0);
});

it('under NODE_OPTIONS=--use-openssl-ca the launcher leaves NODE_EXTRA_CA_CERTS to Node, which alone can extend that store', async () => {
  const options = { NODE_OPTIONS: '--use-openssl-ca' };
  expect((await runCli(['--version'], { ...options, NODE_EXTRA_CA_CERTS: '/nonexistent/extra-ca.pem' })).stderr).toMatch(/Ignoring extra certs from/);
  const listed = await runCli([...withoutCacert(), 'list', '-o', 'json'], { ...options, NODE_EXTRA_CA_CERTS: certs.caFile });
  expect(listed.code, listed.stderr).toBe(0);
});

it('--cacert replaces the default CAs, NODE_EXTRA_CA_CERTS among them, as it does in Node', async () => {
  const other = makeCerts('another-ca');
  try {
    const r = await runCli([...withoutCacert(), '--cacert', other.caFile, 'list'], { NODE_EXTRA_CA_CERTS: certs.caFile });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/not signed by --cacert/);
  } finally {
    rmSync(other.dir, { recursive: true, force: true });
  }
});

it('a NODE_EXTRA_CA_CERTS file that cannot be read is ignored with a warning when an https:// endpoint needs it', async () => {
  const env = { NODE_EXTRA_CA_CERTS: '/nonexistent/extra-ca.pem' };
  const r = await runCli([...withoutCacert(), 'list'], env);
  expect(r.code).toBe(3);
  expect(r.stderr).toMatch(/warning: ignoring extra certs from NODE_EXTRA_CA_CERTS=\/nonexistent\/extra-ca.pem: ENOENT/);
  // With --cacert, the file is not needed and not read.
  const given = await runCli([...withoutCacert(), '--cacert', certs.caFile, 'list', '-o', 'json'], env);
  expect(given.code, given.stderr).toBe(0);
  expect(given.stderr).toBe('');
});

it('the commands svcreg runs get NODE_EXTRA_CA_CERTS as it was given: set, empty or unset', async () => {
  const show = ['--', 'sh', '-c', 'printf "[%s] [%s]" "${NODE_EXTRA_CA_CERTS-unset}" "${SVCREG_NODE_EXTRA_CA_CERTS-unset}"'];
  const run = (value: string | undefined) =>
    runCli(['--cacert', certs.caFile, ...withoutCacert(), 'register', 'child-env', '--address', '127.0.0.1', '--port', '1', ...show], { NODE_EXTRA_CA_CERTS: value });
  expect((await run('/some/ca.pem')).stdout).toMatch(/\[\/some\/ca\.pem\] \[unset\]$/);
  expect((await run('')).stdout).toMatch(/\[\] \[unset\]$/);
  expect((await run(undefined)).stdout).toMatch(/\[unset\] \[unset\]$/);
});

it('arguments reach the CLI, and the command it runs, unchanged through the launcher', async () => {
  const args = ['a b', '', '$HOME', '*', '-x', "it's", '"q"', 'tab\there'];
  const r = await runCli(['--cacert', certs.caFile, ...withoutCacert(), 'register', 'argv', '--address', '127.0.0.1', '--port', '1', '--', 'printf', '<%s>', ...args]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain(args.map((a) => `<${a}>`).join(''));
});

it('the process the launcher starts is Node itself: the PID a script gets is the one that takes its signals', async () => {
  const p = startCli(['--cacert', certs.caFile, ...withoutCacert(), 'register', 'pid', '--address', '127.0.0.1', '--port', '1']);
  await p.waitFor(/registered/);
  const cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
  expect(cmdline.slice(0, 2)).toEqual(['node', BIN]);
  p.signal('SIGTERM');
  const done = await p.exited;
  expect(done.code).toBe(0);
  expect(done.stderr).toMatch(/deregistered/);
});
