/**
 * A wall clock that steps back changes nothing but printed timestamps. The registrant
 * runs under libfaketime (Debian's `faketime` package) with the monotonic clock left
 * real, and the test steps its wall clock back an hour while etcd is frozen: the lease
 * loss must still be noticed after about a TTL, as measured on the monotonic clock.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';

const TTL_S = 3;

/** libfaketime.so.1 where Debian installs it, for any architecture. */
function findLibfaketime(): string | undefined {
  const dirs = ['/usr/lib/faketime', ...readdirSync('/usr/lib').map((d) => join('/usr/lib', d, 'faketime'))];
  return dirs.map((d) => join(d, 'libfaketime.so.1')).find((f) => existsSync(f));
}

let etcd: EtcdCluster;
let dir: string;
let libfaketime: string;
const started: CliProcess[] = [];

beforeAll(async () => {
  const found = findLibfaketime();
  if (!found) throw new Error('libfaketime.so.1 not found: install Debian\'s faketime package (apt-get install -y faketime), which brings libfaketime');
  libfaketime = found;
  dir = mkdtempSync(join(tmpdir(), 'svcreg-clock-'));
  etcd = await startEtcd();
});
afterEach(async () => {
  etcd.members[0].thaw();
  await Promise.all(started.splice(0).map((p) => p.stop()));
});
afterAll(async () => {
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * The environment that fakes only the wall clock, from an offset in `file` read on every
 * call, so writing "-1h" to it steps the clock of a running process back an hour.
 */
function fakeClock(name: string): { env: Record<string, string>; stepBack: () => void } {
  const file = join(dir, name);
  writeFileSync(file, '+0\n');
  return {
    env: { LD_PRELOAD: libfaketime, FAKETIME_DONT_FAKE_MONOTONIC: '1', FAKETIME_TIMESTAMP_FILE: file, FAKETIME_NO_CACHE: '1' },
    stepBack: () => writeFileSync(file, '-1h\n'),
  };
}

function registrant(id: string, env: Record<string, string>, extra: string[] = []): CliProcess {
  const p = startCli(
    ['--endpoints', etcd.endpoints, '--timeout', '1s', 'register', 'web', '--id', id, '--address', '127.0.0.1', '--port', '80', '--ttl', String(TTL_S), '-o', 'ndjson', ...extra],
    env,
  );
  started.push(p);
  return p;
}

describe('a wall clock stepped back an hour', () => {
  it('libfaketime moves Date.now() back an hour and leaves performance.now() alone', () => {
    const clock = fakeClock('probe');
    const script = `const d = Date.now(), p = performance.now();
      require('fs').writeFileSync(process.env.FAKETIME_TIMESTAMP_FILE, '-1h\\n');
      setTimeout(() => console.log(JSON.stringify({ wall: Date.now() - d, monotonic: performance.now() - p })), 200);`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, ...clock.env } }).toString());
    expect(out.wall).toBeLessThan(-3_500_000);
    expect(out.monotonic).toBeGreaterThan(150);
    expect(out.monotonic).toBeLessThan(5000);
  });

  it('while etcd is frozen, the registrant still reports the lease lost after about a TTL', async () => {
    const clock = fakeClock('lost');
    const p = registrant('lost', clock.env);
    await p.waitFor(/"event":"registered"/);
    etcd.members[0].freeze();
    const frozenAt = Date.now();
    clock.stepBack();
    await p.waitFor(/"event":"lost"/, { timeoutMs: 15_000 });
    const lostMs = Date.now() - frozenAt;
    console.log(`lost reported ${lostMs} ms after etcd froze (TTL ${TTL_S} s)`);
    expect(lostMs).toBeLessThan(3 * TTL_S * 1000);
  });

  it('while etcd is frozen, --on-lost exit exits 6 before etcd answers again', async () => {
    const clock = fakeClock('exit');
    const p = registrant('exit', clock.env, ['--on-lost', 'exit']);
    await p.waitFor(/"event":"registered"/);
    etcd.members[0].freeze();
    const frozenAt = Date.now();
    clock.stepBack();
    const stillFrozen = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000));
    const result = await Promise.race([p.exited, stillFrozen]);
    if (result === 'timeout') throw new Error(`still running 15 s after etcd froze\nstdout: ${p.stdout}\nstderr: ${p.stderr}`);
    console.log(`--on-lost exit exited ${Date.now() - frozenAt} ms after etcd froze (TTL ${TTL_S} s)`);
    expect(result.code, result.stderr).toBe(6);
  });
});
