// `render`'s benchmark: registry change to file installed and --exec started, p50 and p99
// over CHANGES changes without --wait; and the RSS of a render holding 10,000 instances.
// Exported for bench/run.mjs; runnable alone on a throwaway etcd: `node bench/render-latency.mjs`.
//   exec start is stamped by the --exec command itself (`date +%s%N`, wall clock on this
//   machine, compared with the wall clock taken just before each put).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { freePort, healthy, scratchDir, spawnEtcd } from '../scripts/etcd-process.mjs';
import { scratch, started } from './interrupt.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SVCREG = join(root, 'bin', 'svcreg.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const value = (service, id, port) => JSON.stringify({ service_id: id, service_name: service, address: '127.0.0.1', port, tags: ['v1'], metadata: { zone: 'a' }, registered_at: Date.now() / 1000 });
const nowNs = () => BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);

/** Lines of `file` (0 while it does not exist). */
const lineCount = (file) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);

async function until(ok, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

/** Starts `svcreg render` with `args`; resolves with the child once it has rendered (its stderr says so). */
async function startRender(args, env) {
  const child = started(spawn(process.execPath, [SVCREG, 'render', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  await until(() => /rendered|is current/.test(stderr) || child.exitCode !== null, 'the first render');
  if (child.exitCode !== null) throw new Error(`render exited: ${stderr}`);
  return child;
}

const stop = (child) => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', resolve), child.kill('SIGTERM'))));

/**
 * Measures on the etcd at `endpoint` (under prefixes of its own).
 * @returns {Promise<{ changes: number, p50_ms: number, p99_ms: number, instances: number, rss_mb: number, peak_rss_mb: number }>}
 */
export async function renderLatency(endpoint, { changes = 200, instances = 10_000 } = {}) {
  const dir = scratch(mkdtempSync(join(tmpdir(), 'svcreg-bench-render-')));
  const client = new Etcd3({ hosts: endpoint });
  const children = [];
  try {
    const template = join(dir, 't.liquid');
    writeFileSync(template, '{% for s in services %}upstream {{ s.name }} {\n{% for i in s.instances %}  server {{ i.addr }};\n{% endfor %}}\n{% endfor %}');
    const log = join(dir, 'exec.log');
    const env = { ...process.env, SVCREG_ENDPOINTS: endpoint, SVCREG_PREFIX: '/bench-render/', NO_COLOR: '1' };
    children.push(await startRender([template, '--out', join(dir, 'out.conf'), '--exec', `date +%s%N >> ${log}`], env));
    await until(() => lineCount(log) === 1, 'the first exec');
    const latencies = [];
    for (let i = 0; i < changes; i++) {
      const before = nowNs();
      await client.put(`/bench-render/web/w${i}`).value(value('web', `w${i}`, 10_000 + i));
      await until(() => lineCount(log) === i + 2, `exec ${i}`);
      const stamped = BigInt(readFileSync(log, 'utf8').trim().split('\n').at(-1));
      latencies.push(Number(stamped - before) / 1e6);
    }

    // 10,000 instances, written in transactions of 100.
    for (let i = 0; i < instances; i += 100) {
      const txn = client.if(`/bench-big/web/x`, 'Version', '==', 0);
      const ops = [];
      for (let j = i; j < Math.min(instances, i + 100); j++) ops.push(client.put(`/bench-big/web/w${j}`).value(value('web', `w${j}`, 1 + (j % 65535))));
      await txn.then(...ops).commit();
    }
    const big = await startRender([template, '--out', join(dir, 'big.conf')], { ...env, SVCREG_PREFIX: '/bench-big/' });
    children.push(big);
    const status = readFileSync(`/proc/${big.pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)[1]);
    return {
      changes,
      p50_ms: Number(percentile(latencies, 50).toFixed(2)),
      p99_ms: Number(percentile(latencies, 99).toFixed(2)),
      instances,
      rss_mb: Math.round(kb('VmRSS') / 1024),
      peak_rss_mb: Math.round(kb('VmHWM') / 1024),
    };
  } finally {
    for (const c of children) await stop(c);
    client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const data = scratch(scratchDir());
  const etcd = started(spawnEtcd({ name: 'bench', clientPort, peerPort, dataDir: join(data, 'etcd'), initialCluster: `bench=http://127.0.0.1:${peerPort}`, clusterToken: 'svcreg-bench-render' }));
  const endpoint = `http://127.0.0.1:${clientPort}`;
  try {
    await until(() => etcd.exitCode === null, 'etcd');
    for (let i = 0; !(await healthy(endpoint)); i++) {
      if (i > 100) throw new Error('etcd did not start');
      await sleep(100);
    }
    process.stdout.write(`${JSON.stringify(await renderLatency(endpoint, { changes: Number(process.env.BENCH_CHANGES ?? 200) }))}\n`);
  } finally {
    etcd.kill('SIGTERM');
    await new Promise((r) => etcd.once('exit', r));
    rmSync(data, { recursive: true, force: true });
  }
}
