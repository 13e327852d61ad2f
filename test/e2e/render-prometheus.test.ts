/**
 * `render --format prometheus` with a real consumer: Prometheus, started by the test on a
 * loopback port with only our file_sd job (no remote write, no alertmanager), scraping
 * the registered backends. Its /api/v1/targets must show every registered instance with
 * its labels, and drop one that deregisters.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../harness/cli.js';
import { freePort, startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { serverScript, startBackend, type Backend } from '../harness/http-backend.js';

let etcd: EtcdCluster;
let dir: string;
let prometheus: ChildProcess | undefined;
let renderer: CliProcess | undefined;
let api: string;
const backends: Backend[] = [];
const env = () => ({ SVCREG_ENDPOINTS: etcd.endpoints, SVCREG_PREFIX: '/prometheus-test/' });

interface Target {
  labels: Record<string, string>;
  discoveredLabels: Record<string, string>;
  scrapePool: string;
  health: string;
}

beforeAll(async () => {
  etcd = await startEtcd();
  dir = mkdtempSync(join(tmpdir(), 'svcreg-prometheus-'));
  const script = serverScript(dir);
  backends.push(await startBackend(script, 'web', 'w1', env(), ['--tag', 'v1', '--meta', 'zone=a']));
  backends.push(await startBackend(script, 'web', 'w2', env(), ['--tag', 'v2', '--meta', 'zone=b']));
  backends.push(await startBackend(script, 'api', 'a1', env(), ['--meta', 'team-name=core']));
  const targets = join(dir, 'svcreg.json');
  renderer = startCli(['render', '--format', 'prometheus', '--out', targets], env());
  await renderer.waitFor(/rendered/, { stream: 'stderr' });
  // The README's example job, as the README shows it.
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:
  scrape_interval: 1s
scrape_configs:
  - job_name: svcreg
    file_sd_configs:
      - files: ['${targets}']
    relabel_configs:
      - source_labels: [__meta_svcreg_id]
        target_label: instance_id
      - regex: __meta_svcreg_metadata_(.+)
        action: labelmap
`,
  );
  const port = await freePort();
  api = `http://127.0.0.1:${port}/api/v1`;
  prometheus = spawn(
    'prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${join(dir, 'data')}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}, 60_000);

afterAll(async () => {
  await renderer?.stop();
  for (const b of backends) await b.registrant.stop();
  if (prometheus && prometheus.exitCode === null) {
    prometheus.kill('SIGTERM');
    await new Promise((r) => prometheus!.once('exit', r));
  }
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function activeTargets(): Promise<Target[]> {
  try {
    const res = await fetch(`${api}/targets?state=active`, { signal: AbortSignal.timeout(2000) });
    return ((await res.json()) as { data: { activeTargets: Target[] } }).data.activeTargets;
  } catch {
    return []; // not up yet
  }
}

/** Polls the targets until `ok` accepts them (30 s at most: Prometheus starts and discovers in the background). */
async function targetsWhen(ok: (t: Target[]) => boolean): Promise<Target[]> {
  const deadline = Date.now() + 30_000;
  let last: Target[] = [];
  while (Date.now() < deadline) {
    last = await activeTargets();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`targets never matched; last: ${JSON.stringify(last, null, 2)}`);
}

const byInstance = (targets: Target[]) => targets.map((t) => t.labels.instance_id).sort();

describe('render --format prometheus with Prometheus', () => {
  it('shows every registered instance as a target, labelled with its service, id, tags and metadata', async () => {
    const targets = await targetsWhen((t) => t.length === 3);
    expect(byInstance(targets)).toEqual(['a1', 'w1', 'w2']);
    const w1 = targets.find((t) => t.labels.instance_id === 'w1')!;
    const port = backends.find((b) => b.id === 'w1')!.port;
    expect(w1.labels).toMatchObject({ job: 'svcreg', service: 'web', instance: `127.0.0.1:${port}`, zone: 'a' });
    expect(w1.discoveredLabels).toMatchObject({ __meta_svcreg_service: 'web', __meta_svcreg_id: 'w1', __meta_svcreg_tags: ',v1,' });
    // A metadata key that is no label name is made one.
    expect(targets.find((t) => t.labels.instance_id === 'a1')!.labels).toMatchObject({ service: 'api', team_name: 'core' });
  });

  it('scrapes them: each target is up', async () => {
    const targets = await targetsWhen((t) => t.length === 3 && t.every((x) => x.health === 'up'));
    expect(targets.map((t) => t.health)).toEqual(['up', 'up', 'up']);
  });

  it('drops the target of an instance that deregisters', async () => {
    await backends.find((b) => b.id === 'w2')!.registrant.stop();
    const targets = await targetsWhen((t) => t.length === 2);
    expect(byInstance(targets)).toEqual(['a1', 'w1']);
  });
});
