/**
 * A slow reader of `svcreg watch`: stdout backpressure must reach the etcd stream, so
 * the CLI's memory stays bounded however far behind the reader is, and every event
 * still arrives once, in revision order, when it reads again.
 *
 * SVCREG_TEST_BIN runs another build of the CLI (e.g. /tmp/oldmain/bin/svcreg.js) to
 * show this test fails on it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';

const bin = process.env.SVCREG_TEST_BIN || BIN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const TXNS = 1000;
const PUTS_PER_TXN = 100;
/** Keys are reused (1,000 of them), so the registry stays small and only the backlog grows. */
const KEYS = 1000;
/** The aim while the reader is stalled; the old code went past 200 MB and kept growing. */
const RSS_BOUND_MB = 100;
/**
 * While the reader catches up at full speed, RSS holds garbage V8 has not collected yet
 * (110-160 MB here; 110 MB with --max-old-space-size=40, so it is not held): bounded, not tight.
 */
const RSS_READING_BOUND_MB = 220;

let etcd: EtcdCluster;
const children: ChildProcess[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  await etcd?.stop();
});

/** About 300 bytes of seed-format instance. */
function value(id: string, n: number): string {
  return JSON.stringify({
    service_id: id,
    service_name: 'web',
    address: '10.0.0.1',
    port: 8000 + (n % 1000),
    tags: ['v1', 'primary'],
    metadata: { zone: 'eu-west-1a', build: `build-${n}`, pad: 'x'.repeat(120) },
    registered_at: 1700000000.123,
  });
}

function rssMb(pid: number): number | undefined {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

describe('watch with a slow reader', () => {
  it('keeps its memory bounded while stdout is not read, then delivers every event once, in revision order', async () => {
    const prefix = '/bp/';
    const child = await etcd.startWatching(() => {
      const c = spawn(process.execPath, [bin, '--endpoints', etcd.endpoints, '--prefix', prefix, '--timeout', '5s', 'watch', '-o', 'ndjson'], {
        env: cliEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(c);
      return c;
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    // stdout is piped to this process and not read: a paused stream, the pipe fills.
    child.stdout!.pause();

    const startRss = rssMb(child.pid!)!;
    let peak = startRss;
    const sampler = setInterval(() => {
      const mb = rssMb(child.pid!);
      if (mb !== undefined) peak = Math.max(peak, mb);
    }, 100);

    // 100,000 events: 1,000 transactions of 100 PUTs, 4 in flight at a time.
    const written: { revision: number; keys: string[] }[] = [];
    const t0 = Date.now();
    let next = 0;
    const worker = async () => {
      for (let t = next++; t < TXNS; t = next++) {
        const keys = Array.from({ length: PUTS_PER_TXN }, (_, i) => `${prefix}web/i-${(t * PUTS_PER_TXN + i) % KEYS}`);
        const revision = await etcd.members[0].txn(keys.map((k, i) => [k, value(k.slice(prefix.length + 4), t * PUTS_PER_TXN + i)]));
        written.push({ revision, keys });
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    const writeMs = Date.now() - t0;
    // The old code keeps taking in what etcd sends for a while after the writes end.
    await sleep(4000);
    const peakWhileBlocked = peak;
    peak = 0; // from here: while the reader catches up

    // Now read everything.
    written.sort((a, b) => a.revision - b.revision);
    const expected: string[] = [];
    for (const { revision, keys } of written) for (const k of keys) expected.push(`${revision} ${k}`);
    const got: string[] = [];
    let partial = '';
    const readStart = Date.now();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${got.length} of ${expected.length} events in 60 s\nstderr: ${stderr}`)), 60_000);
      child.stdout!.on('data', (d: Buffer) => {
        const text = partial + d.toString();
        const lines = text.split('\n');
        partial = lines.pop()!;
        for (const line of lines) {
          const e = JSON.parse(line) as { type: string; key: string; revision: number };
          got.push(`${e.revision} ${e.key}`);
        }
        if (got.length >= expected.length) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stdout!.resume();
    });
    const readMs = Date.now() - readStart;
    await sleep(1000); // a duplicate would show up now
    clearInterval(sampler);
    const peakWhileReading = peak;

    console.log(
      `slow reader: ${expected.length} events written in ${writeMs} ms; watch RSS ${startRss.toFixed(0)} MB at start, ` +
        `peak ${peakWhileBlocked.toFixed(0)} MB while stdout was not read (bound ${RSS_BOUND_MB} MB); ` +
        `read back in ${readMs} ms, peak ${peakWhileReading.toFixed(0)} MB meanwhile (bound ${RSS_READING_BOUND_MB} MB)` +
        (stderr ? `; stderr: ${stderr.slice(0, 500)}` : ''),
    );
    expect(got.length).toBe(expected.length);
    // Every (revision, key) once, in revision order, as written.
    expect(got.join('\n') === expected.join('\n')).toBe(true);
    expect(peakWhileBlocked).toBeLessThan(RSS_BOUND_MB);
    expect(peakWhileReading).toBeLessThan(RSS_READING_BOUND_MB);
  }, 120_000);
});
