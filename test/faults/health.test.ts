/**
 * Health written to etcd is what the last check said. A registrant reaches etcd
 * through a TCP proxy that blackholes its connections, so a health write is lost
 * rather than delayed; the check's verdict changes meanwhile, and once the proxy
 * passes traffic again etcd must hold the new verdict within about a check interval.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { TcpProxy } from '../harness/proxy.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CHECK_INTERVAL_MS = 1000;
const OUTAGE_MS = 4000;

let etcd: EtcdCluster;
let raw: Etcd3;
let proxy: TcpProxy;
let dir: string;
const started: CliProcess[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  raw = new Etcd3({ hosts: etcd.endpoints });
  proxy = await TcpProxy.start(etcd.members[0].config.clientPort);
  dir = mkdtempSync(join(tmpdir(), 'svcreg-health-'));
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
  proxy.restore();
});
afterAll(async () => {
  await proxy?.close();
  raw?.close();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A registrant whose check passes while `flag` exists, turning critical at the first failure. */
function registrant(id: string, flag: string, check = `test -f ${flag}`): CliProcess {
  const p = startCli([
    '--endpoints', proxy.url, '--timeout', '1s',
    'register', 'web', '--id', id, '--address', '127.0.0.1', '--port', '80', '-o', 'ndjson',
    '--check-cmd', check, '--check-interval', `${CHECK_INTERVAL_MS}ms`, '--check-failures', '1',
  ]);
  started.push(p);
  return p;
}

/** The health etcd holds for `id`, read directly from etcd (not through the proxy). */
async function stored(id: string): Promise<{ status: string; output: string } | undefined> {
  const value = await raw.get(`/services/web/${id}`).string();
  return value === null ? undefined : JSON.parse(value).health;
}

/** Polls etcd until the stored health of `id` satisfies `ok`; returns how long that took. */
async function until(id: string, ok: (h: { status: string; output: string } | undefined) => boolean, timeoutMs: number): Promise<number> {
  const since = Date.now();
  for (;;) {
    const health = await stored(id);
    if (ok(health)) return Date.now() - since;
    if (Date.now() - since > timeoutMs) throw new Error(`stored health of ${id} is still ${JSON.stringify(health)} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Blackholes the registrant's connections for OUTAGE_MS, running `meanwhile` once they are cut. */
async function outage(meanwhile: () => void): Promise<void> {
  proxy.blackhole();
  meanwhile();
  await sleep(OUTAGE_MS);
  proxy.restore();
}

describe('health through a lost write', () => {
  it('a check that turned critical while etcd was unreachable is written once etcd answers again', async () => {
    const flag = join(dir, 'up-then-down');
    writeFileSync(flag, '');
    const p = registrant('down', flag);
    await until('down', (h) => h?.status === 'passing', 15_000);
    await outage(() => rmSync(flag));
    const convergedMs = await until('down', (h) => h?.status === 'critical', 10_000);
    console.log(`passing -> critical stored ${convergedMs} ms after etcd answered again`);
    expect(convergedMs).toBeLessThan(3 * CHECK_INTERVAL_MS + 2000);
    expect(p.child.exitCode).toBeNull();
  });

  it('a check that started passing while etcd was unreachable is written once etcd answers again', async () => {
    const flag = join(dir, 'down-then-up');
    const p = registrant('up', flag);
    await p.waitFor(/"event":"registered"/);
    await sleep(2 * CHECK_INTERVAL_MS); // the first checks have failed
    await outage(() => writeFileSync(flag, ''));
    const convergedMs = await until('up', (h) => h?.status === 'passing', 10_000);
    console.log(`critical -> passing stored ${convergedMs} ms after etcd answered again`);
    expect(convergedMs).toBeLessThan(3 * CHECK_INTERVAL_MS + 2000);
    expect(p.child.exitCode).toBeNull();
  });
});

describe('the first check', () => {
  it('a check that fails from the start stores its output', async () => {
    const p = registrant('never', join(dir, 'never'), 'echo backend not ready; exit 1');
    await p.waitFor(/"event":"registered"/);
    await until('never', (h) => h?.status === 'critical' && h.output === 'backend not ready', 10_000);
  });
});
