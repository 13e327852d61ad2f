// `npm run bench`: svcreg against etcdctl and `node -e 0`, measured alternately in the same
// run on a throwaway etcd, reported as medians and ratios against each target (GOALS: issue
// 12's start-up and listing targets, issue 5's for the rest).
// Not part of the test suite. Writes the results to bench-results.json as well.
//   BENCH_RUNS=9        runs per command (median reported)
//   BENCH_LARGE=100000  instances for the large listing (0 skips it)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { freePort, healthy, scratchDir, spawnEtcd } from '../scripts/etcd-process.mjs';
import { scratch, started } from './interrupt.mjs';
import { renderLatency } from './render-latency.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Run as a shell runs `svcreg`: through bin/svcreg.js's launcher line, which starts Node
// without NODE_EXTRA_CA_CERTS (set on these machines: 40 ms of every Node start).
const SVCREG = join(root, 'bin', 'svcreg.js');
// Node started as that launcher starts it: for the floors, and `node -e 0` beside the yardstick.
const BARE_NODE = ['env', '-u', 'NODE_EXTRA_CA_CERTS', 'node'];
// The least any Node client does to list a prefix: the listing rows' floor, measured beside them.
const FLOOR = join(root, 'bench', 'listing-floor.cjs');
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const LARGE = Number(process.env.BENCH_LARGE ?? 100_000);
const GOALS = {
  watchStart: 2.0, // watch --rev R --count 1, start to exit, ÷ node -e 0
  watchP50: 1.1, // put-to-printed p50, ÷ etcdctl watch
  watchP99Ms: 5,
  discover: 1.4, // ÷ node -e 0
  help: 1.2, // ÷ node -e 0
  list10k: 2.0, // list --instances -o json, ÷ etcdctl get -w json
  counts: 2.0, // list -o json, ÷ etcdctl get --keys-only
  list100k: 1.5,
  list100kMb: 200,
  table: 1.5, // the 100,000 table ÷ its JSON
  stopMs: 50, // SIGINT to key gone
  idleMb: 50,
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const log = (text) => process.stderr.write(`bench: ${text}\n`);

/** Runs a command under GNU time; returns wall ms and peak RSS in MB. */
function measure(cmd, args, env) {
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { env, encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.slice(-500)}`);
  const kb = Number(r.stderr.trim().split('\n').at(-1));
  return { ms, rssMb: kb / 1024 };
}

/** Runs the named commands alternately RUNS times; returns their median ms and peak RSS. */
function compare(commands, env) {
  const samples = Object.fromEntries(Object.keys(commands).map((k) => [k, { ms: [], rss: [] }]));
  for (let i = 0; i < RUNS; i++) {
    for (const [name, [cmd, ...args]] of Object.entries(commands)) {
      const m = measure(cmd, args, env);
      samples[name].ms.push(m.ms);
      samples[name].rss.push(m.rssMb);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, { ms: median(s.ms), rssMb: Math.max(...s.rss) }]));
}

const value = (service, id) =>
  JSON.stringify({ service_id: id, service_name: service, address: '10.0.0.1', port: 8080, tags: ['v1'], metadata: { zone: 'a' }, registered_at: 1764000000.123 });

async function seed(client, prefix, count, services) {
  for (let i = 0; i < count; i += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, count - i) }, (_, j) => {
        const n = i + j;
        const service = `svc-${n % services}`;
        return client.put(`${prefix}${service}/${service}-${n}`).value(value(service, `${service}-${n}`));
      }),
    );
  }
}

/** CPU time of a process so far, in clock ticks (1/100 s). */
const cpuTicks = (pid) => execFileSync('cat', [`/proc/${pid}/stat`]).toString().split(' ').slice(13, 15).reduce((a, b) => a + Number(b), 0);
/** Resident memory of a process now, in MB. */
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(execFileSync('cat', [`/proc/${pid}/status`]).toString())[1]) / 1024;

/**
 * Put-to-printed latency of one watching process over `count` puts: ms from each put to its
 * line on stdout, and each put's own round trip (etcd commits the event within it, so no
 * watcher prints sooner than about that). Each put registers a new, well-formed instance
 * under `prefix` (its id names the put), as the events a watch serves are; they are deleted
 * afterwards.
 */
async function watchWindow(client, cmd, args, env, prefix, count) {
  const child = started(spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'ignore'] }));
  let buffer = '';
  const seen = new Map();
  child.stdout.on('data', (d) => {
    const now = process.hrtime.bigint();
    buffer += d;
    for (const m of buffer.matchAll(/lat-(\d+)-/g)) if (!seen.has(m[1])) seen.set(m[1], now);
    buffer = buffer.slice(-200);
  });
  await sleep(1500);
  const sent = new Map();
  const puts = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    sent.set(String(i), start);
    await client.put(`${prefix}lat-${i}-x`).value(value('lat', `lat-${i}-x`));
    puts.push(Number(process.hrtime.bigint() - start) / 1e6);
    await sleep(10);
  }
  await sleep(500);
  child.kill('SIGTERM');
  // The next watcher's puts register their instances anew, as these did.
  await client.delete().prefix(prefix);
  return { latencies: [...sent].filter(([i]) => seen.has(i)).map(([i, t]) => Number(seen.get(i) - t) / 1e6), puts, sent: count };
}

/**
 * Put-to-printed latency of each watcher in `watchers` (name -> command), measured in
 * alternate windows (`rounds` of `perRound` puts each), as the one-shot commands are
 * measured alternately: the machine's speed drifts during a run, and a ratio of two
 * medians taken a minute apart carries that drift. Each window's watcher is new, and its
 * first event, which compiles the watch path, is counted: one in 200, as when each
 * watcher had one window of 200.
 */
async function watchLatencies(client, watchers, env, prefix, rounds = 2, perRound = 200) {
  const all = Object.fromEntries(Object.keys(watchers).map((name) => [name, { latencies: [], puts: [], sent: 0 }]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, [cmd, ...args]] of Object.entries(watchers)) {
      const w = await watchWindow(client, cmd, args, env, prefix, perRound);
      all[name].latencies.push(...w.latencies);
      all[name].puts.push(...w.puts);
      all[name].sent += w.sent;
    }
  }
  const puts = Object.values(all).flatMap((w) => w.puts);
  return {
    ...Object.fromEntries(Object.entries(all).map(([name, w]) => [name, { p50: percentile(w.latencies, 50), p99: percentile(w.latencies, 99), received: w.latencies.length, sent: w.sent }])),
    puts: { p50: percentile(puts, 50), p99: percentile(puts, 99), count: puts.length },
  };
}

async function main() {
  const dir = scratch(scratchDir());
  const [clientPort, peerPort] = await Promise.all([freePort(), freePort()]);
  const etcd = started(spawnEtcd({
    name: 'bench', clientPort, peerPort, dataDir: join(dir, 'etcd'),
    initialCluster: `bench=http://127.0.0.1:${peerPort}`, clusterToken: 'svcreg-bench',
    extraArgs: ['--quota-backend-bytes', String(4 * 1024 ** 3)],
  }));
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const env = { ...process.env, SVCREG_ENDPOINTS: endpoint, ETCDCTL_API: '3', ETCDCTL_ENDPOINTS: endpoint, NO_COLOR: '1' };
  const client = new Etcd3({ hosts: endpoint });
  const results = { machine: { node: process.version, runs: RUNS }, targets: [] };
  const target = (name, measured, vs, ratio, goal, extra = {}) => {
    results.targets.push({ name, measured_ms: measured, baseline_ms: vs, ratio: Number(ratio.toFixed(2)), goal, met: ratio <= goal && !(extra.peak_rss_mb > extra.rss_goal_mb), ...extra });
  };
  /** The listing's floors beside etcdctl: values fetched and written raw, then also parsed and written indented. */
  const floorRows = (count, m) => {
    for (const [what, r] of [['fetches and writes the values', m.floor], ['also parses each and writes it indented', m.floorJson]]) {
      results.targets.push({ name: `floor (${count}): a Node script that ${what} (bench/listing-floor.cjs) vs etcdctl get -w json`, measured_ms: r.ms, baseline_ms: m.etcdctlJson.ms, ratio: Number((r.ms / m.etcdctlJson.ms).toFixed(2)), met: null });
    }
  };
  try {
    for (let i = 0; i < 200 && !(await healthy(endpoint)); i++) await sleep(50);
    log('seeding 10,000 instances in 500 services');
    await seed(client, '/services/', 10_000, 500);

    const replayed = (await client.put('/services/svc-7/replayed').value(value('svc-7', 'replayed')).exec()).header.revision;

    log('one-shot commands');
    const small = compare({
      node: ['node', '-e', '0'],
      bareNode: [...BARE_NODE, '-e', '0'],
      help: [SVCREG, '--help'],
      discover: [SVCREG, 'discover', 'svc-7', '-o', 'json'],
      watchStart: [SVCREG, 'watch', 'svc-7', '--rev', String(replayed), '--count', '1'],
      etcdctlGet: ['etcdctl', 'get', '--prefix', '/services/svc-7/'],
    }, env);
    target('svcreg discover <svc> -o json vs node -e 0', small.discover.ms, small.node.ms, small.discover.ms / small.node.ms, GOALS.discover, { etcdctl_get_ms: small.etcdctlGet.ms });
    target('svcreg --help vs node -e 0', small.help.ms, small.node.ms, small.help.ms / small.node.ms, GOALS.help);
    target('svcreg watch --rev R --count 1, start to exit, vs node -e 0', small.watchStart.ms, small.node.ms, small.watchStart.ms / small.node.ms, GOALS.watchStart);
    if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
      results.targets.push({ name: 'node -e 0 without NODE_EXTRA_CA_CERTS, as svcreg starts Node (the yardstick above has it)', measured_ms: small.bareNode.ms, baseline_ms: small.node.ms, ratio: Number((small.bareNode.ms / small.node.ms).toFixed(2)), met: null });
    }

    log('listing 10,000');
    const ten = compare({
      instances: [SVCREG, 'list', '--instances', '-o', 'json'],
      etcdctlJson: ['etcdctl', 'get', '--prefix', '/services/', '-w', 'json'],
      counts: [SVCREG, 'list', '-o', 'json'],
      etcdctlKeys: ['etcdctl', 'get', '--prefix', '/services/', '--keys-only'],
      floor: [...BARE_NODE, FLOOR, endpoint, '/services/'],
      floorJson: [...BARE_NODE, FLOOR, endpoint, '/services/', '--json'],
    }, env);
    target('svcreg list --instances -o json (10,000) vs etcdctl get -w json', ten.instances.ms, ten.etcdctlJson.ms, ten.instances.ms / ten.etcdctlJson.ms, GOALS.list10k, { peak_rss_mb: ten.instances.rssMb });
    floorRows('10,000', ten);
    target('svcreg list -o json (10,000) vs etcdctl get --keys-only', ten.counts.ms, ten.etcdctlKeys.ms, ten.counts.ms / ten.etcdctlKeys.ms, GOALS.counts);

    log('watch latency');
    const { svcreg: svcregWatch, etcdctl: etcdctlWatch, puts } = await watchLatencies(client, {
      svcreg: [SVCREG, 'watch', 'lat', '-o', 'ndjson'],
      etcdctl: ['etcdctl', 'watch', '--prefix', '/services/lat/'],
    }, env, '/services/lat/');
    target('svcreg watch p50 latency vs etcdctl watch', svcregWatch.p50, etcdctlWatch.p50, svcregWatch.p50 / etcdctlWatch.p50, GOALS.watchP50, { svcreg: svcregWatch, etcdctl: etcdctlWatch });
    results.targets.push({ name: 'svcreg watch p99 latency (ms)', measured_ms: svcregWatch.p99, goal_ms: GOALS.watchP99Ms, met: svcregWatch.p99 <= GOALS.watchP99Ms });
    results.targets.push({ name: 'etcdctl watch p99 latency (ms), in the windows between those', measured_ms: etcdctlWatch.p99, met: null });
    // The floor of both rows above: etcd sends a watcher the event as it commits the put.
    results.targets.push({ name: `the puts' own round trip in those windows, p99 (ms; p50 ${puts.p50.toFixed(1)} ms): etcd commits each event within it`, measured_ms: puts.p99, met: null, puts });

    log('SIGINT to a registrant until its key is gone (10 runs)');
    const gone = [];
    for (let i = 0; i < 10; i++) {
      const key = `/services/stop/s${i}`;
      const reg = started(spawn(SVCREG, ['register', 'stop', '--id', `s${i}`, '--address', '127.0.0.1', '--port', '1'], { env, stdio: ['ignore', 'pipe', 'ignore'] }));
      // Listened for now: the registrant can exit before the watcher below is cancelled.
      const exited = new Promise((r) => reg.once('exit', r));
      await new Promise((r) => reg.stdout.once('data', r));
      const watcher = await client.watch().key(key).create();
      const deleted = new Promise((r) => watcher.on('delete', () => r(process.hrtime.bigint())));
      const t0 = process.hrtime.bigint();
      reg.kill('SIGINT');
      gone.push(Number((await deleted) - t0) / 1e6);
      await watcher.cancel();
      await exited;
    }
    results.targets.push({ name: 'SIGINT -> key gone, max of 10 (ms)', measured_ms: Math.max(...gone), goal_ms: GOALS.stopMs, met: Math.max(...gone) <= GOALS.stopMs, all_ms: gone });

    log('an idle registrant for 10 s');
    const idle = started(spawn(SVCREG, ['register', 'idle', '--address', '127.0.0.1', '--port', '1', '--ttl', '3'], { env, stdio: ['ignore', 'pipe', 'ignore'] }));
    await new Promise((r) => idle.stdout.once('data', r));
    const cpu0 = cpuTicks(idle.pid);
    await sleep(10_000);
    const ticks = cpuTicks(idle.pid) - cpu0;
    const rss = rssMb(idle.pid);
    idle.kill('SIGINT');
    results.targets.push({ name: 'idle registrant RSS (MB), CPU over 10 s', measured_mb: Number(rss.toFixed(1)), cpu_percent: ticks, goal_mb: GOALS.idleMb, met: rss <= GOALS.idleMb });

    log('1,000 registrations in one library process, TTL 6 s, for 10 s');
    const many = started(spawn('node', [join(root, 'bench', 'many-registrations.mjs'), '1000', '6'], { env, stdio: ['ignore', 'pipe', 'inherit'] }));
    const manyOut = [];
    many.stdout.on('data', (d) => manyOut.push(String(d)));
    while (!manyOut.join('').includes('ready')) await sleep(50);
    const manyCpu0 = cpuTicks(many.pid);
    await sleep(10_000);
    const manyTicks = cpuTicks(many.pid) - manyCpu0;
    const manyRss = rssMb(many.pid);
    const sockets = execFileSync('ls', ['-l', `/proc/${many.pid}/fd`]).toString().split('\n').filter((l) => l.includes('socket:')).length;
    many.kill('SIGINT');
    await new Promise((r) => many.once('exit', r));
    const [, readyMs] = /ready (\d+)/.exec(manyOut.join(''));
    const [, deregMs, lostCount] = /deregistered (\d+) lost (\d+)/.exec(manyOut.join(''));
    results.targets.push({
      name: '1,000 registrations in one process: RSS (MB)',
      measured_mb: Number(manyRss.toFixed(1)), cpu_percent: manyTicks, sockets, register_all_ms: Number(readyMs), deregister_all_ms: Number(deregMs), lost: Number(lostCount), met: null,
    });

    log('render: registry change to file installed and --exec started (200 changes), and a render holding 10,000 instances');
    const render = await renderLatency(endpoint);
    // Issue 14's aim: within 2x of svcreg's own watch latency plus the write.
    const renderGoal = 2 * svcregWatch.p50 + 1;
    results.targets.push({ name: 'render put-to-exec p50 (ms)', measured_ms: render.p50_ms, goal_ms: Number(renderGoal.toFixed(1)), met: render.p50_ms <= renderGoal, render });
    results.targets.push({ name: 'render put-to-exec p99 (ms)', measured_ms: render.p99_ms, met: null });
    results.targets.push({ name: 'render holding 10,000 instances: RSS (MB)', measured_mb: render.rss_mb, met: null });

    if (LARGE > 0) {
      log(`seeding ${LARGE.toLocaleString()} instances under /large/`);
      await seed(client, '/large/', LARGE, 5000);
      const big = compare({
        instances: [SVCREG, '--prefix', '/large/', 'list', '--instances', '-o', 'json'],
        table: [SVCREG, '--prefix', '/large/', 'list', '--instances'],
        etcdctlJson: ['etcdctl', 'get', '--prefix', '/large/', '-w', 'json'],
        counts: [SVCREG, '--prefix', '/large/', 'list', '-o', 'json'],
        etcdctlKeys: ['etcdctl', 'get', '--prefix', '/large/', '--keys-only'],
        floor: [...BARE_NODE, FLOOR, endpoint, '/large/'],
        floorJson: [...BARE_NODE, FLOOR, endpoint, '/large/', '--json'],
      }, env);
      target(`svcreg list --instances -o json (${LARGE}) vs etcdctl get -w json`, big.instances.ms, big.etcdctlJson.ms, big.instances.ms / big.etcdctlJson.ms, GOALS.list100k, { peak_rss_mb: big.instances.rssMb, rss_goal_mb: GOALS.list100kMb });
      floorRows(LARGE.toLocaleString(), big);
      target(`svcreg list --instances as a table (${LARGE}) vs the same listing -o json`, big.table.ms, big.instances.ms, big.table.ms / big.instances.ms, GOALS.table, { peak_rss_mb: big.table.rssMb });
      target(`svcreg list -o json (${LARGE}) vs etcdctl get --keys-only`, big.counts.ms, big.etcdctlKeys.ms, big.counts.ms / big.etcdctlKeys.ms, GOALS.counts, { peak_rss_mb: big.counts.rssMb });
    }
  } finally {
    client.close();
    etcd.kill('SIGTERM');
    await new Promise((r) => etcd.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }

  const rows = results.targets.map((t) => {
    const measured = t.measured_ms !== undefined ? `${t.measured_ms.toFixed(1)} ms` : `${t.measured_mb} MB`;
    const against = t.baseline_ms !== undefined ? `${t.baseline_ms.toFixed(1)} ms` : '';
    const ratio = t.ratio !== undefined ? `${t.ratio}x${t.goal !== undefined ? ` (goal <= ${t.goal}x)` : ''}` : t.goal_ms !== undefined ? `goal <= ${t.goal_ms} ms` : t.goal_mb !== undefined ? `goal <= ${t.goal_mb} MB` : 'no goal';
    const extra =
      t.peak_rss_mb !== undefined ? ` peak RSS ${t.peak_rss_mb.toFixed(0)} MB${t.rss_goal_mb ? ` (goal <= ${t.rss_goal_mb} MB)` : ''}`
      : t.sockets !== undefined ? ` CPU ${t.cpu_percent} ticks in 10 s, ${t.sockets} sockets, registered in ${t.register_all_ms} ms, deregistered in ${t.deregister_all_ms} ms, ${t.lost} lost`
      : t.cpu_percent !== undefined ? ` CPU ${t.cpu_percent} ticks in 10 s` : '';
    return `${t.met === null ? 'info' : t.met ? 'met ' : 'MISS'}  ${t.name}: ${measured}${against ? ` vs ${against}` : ''} = ${ratio}${extra}`;
  });
  process.stdout.write(`${rows.join('\n')}\n`);
  writeFileSync(join(root, 'bench-results.json'), `${JSON.stringify(results, null, 2)}\n`);
  log('results written to bench-results.json');
}

await main();
