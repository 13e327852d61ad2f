/**
 * A stop signal to `register -- command` takes the instance out of discovery at once,
 * whatever the child does: the child gets the signal, then SIGKILL after --kill-timeout.
 * The children here ignore SIGTERM, as a wedged server would.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let etcd: EtcdCluster;
let n = 0;
const started: CliProcess[] = [];
const childPids: number[] = [];

/** Says so on every SIGTERM and carries on; prints its PID so a test can watch it. */
const stubborn = `process.on('SIGTERM', () => console.log('child ignored SIGTERM')); console.log('child pid', process.pid); setInterval(() => {}, 1000)`;

function flags(): { key: string; args: string[] } {
  const prefix = `/stop-${++n}/`;
  return { key: `${prefix}web/w1`, args: ['--endpoints', etcd.endpoints, '--prefix', prefix, 'web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80'] };
}

/** Starts `svcreg register ... -- node -e script`; resolves once the child has printed its PID. */
async function supervise(args: string[], script = stubborn): Promise<{ p: CliProcess; childPid: number }> {
  const p = startCli(['register', ...args, '--', process.execPath, '-e', script]);
  started.push(p);
  const [, pid] = await p.waitFor(/child pid (\d+)/);
  childPids.push(Number(pid));
  return { p, childPid: Number(pid) };
}

/** The key's value through a linearizable read of the member itself, not through svcreg. */
const read = (key: string) => etcd.members[0].get(key, 2000);

/** Whether the child is still running: a process that is ours and not yet reaped. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('child pid') && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function until(what: string, fn: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(50);
  }
}

beforeAll(async () => {
  etcd = await startEtcd();
});

afterEach(async () => {
  // The children ignore SIGTERM: killed first by the PIDs they reported, so svcreg exits at once.
  for (const pid of childPids.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await Promise.all(started.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  await etcd?.stop();
});

describe('a stop signal to register -- command', () => {
  it('takes the key out of etcd at once although the child ignores the signal', async () => {
    const { key, args } = flags();
    const { p, childPid } = await supervise(args);
    expect(await read(key)).not.toBeNull();
    const signalled = Date.now();
    p.signal('SIGTERM');
    await until('key gone', async () => (await read(key)) === null, 2000);
    expect(Date.now() - signalled).toBeLessThan(2000);
    await p.waitFor(/child ignored SIGTERM/);
    expect(alive(childPid)).toBe(true);
  });

  it('SIGKILLs a child still running after --kill-timeout and exits 137', async () => {
    const { key, args } = flags();
    const { p, childPid } = await supervise([...args, '--kill-timeout', '2s']);
    const signalled = Date.now();
    p.signal('SIGTERM');
    const result = await p.exited;
    const ms = Date.now() - signalled;
    expect(result.code).toBe(128 + 9);
    expect(ms).toBeGreaterThanOrEqual(1900);
    expect(ms).toBeLessThan(8000);
    expect(result.stdout).toMatch(/child ignored SIGTERM/);
    expect(alive(childPid)).toBe(false);
    expect(await read(key)).toBeNull();
  });

  it('gives the child 10 s by default before SIGKILL', async () => {
    const { args } = flags();
    const { p } = await supervise(args);
    const signalled = Date.now();
    p.signal('SIGTERM');
    // Awaited, not stop()ped: the harness's stop() would kill everything after 5 s.
    const result = await p.exited;
    const ms = Date.now() - signalled;
    expect(result.code).toBe(128 + 9);
    expect(ms).toBeGreaterThanOrEqual(9900);
    expect(ms).toBeLessThan(25_000);
  });

  it('passes further signals on to the child', async () => {
    const { args } = flags();
    const script = `let n = 0; process.on('SIGTERM', () => { if (++n === 2) process.exit(7); }); console.log('child pid', process.pid); setInterval(() => {}, 1000)`;
    const { p } = await supervise([...args, '--kill-timeout', '30s'], script);
    p.signal('SIGTERM');
    await sleep(500);
    p.signal('SIGTERM');
    const result = await p.exited;
    expect(result.code).toBe(7);
    expect(result.ms).toBeLessThan(20_000);
  });

  it('under --drain marks the instance critical at once, and revokes it when the drain ends although the child ignores the signal', async () => {
    const { key, args } = flags();
    const { p, childPid } = await supervise([...args, '--drain', '3s']);
    p.signal('SIGTERM');
    await until('critical', async () => JSON.parse((await read(key)) ?? '{}').health?.status === 'critical', 2000);
    // Out of discovery while the drain holds the signal back from the child.
    const discovered = await runCli(['discover', ...args.slice(0, 4), 'web']);
    expect(discovered.code).toBe(4);
    expect(p.stdout).not.toMatch(/child ignored SIGTERM/);
    await until('key gone', async () => (await read(key)) === null, 10_000);
    await p.waitFor(/child ignored SIGTERM/);
    expect(alive(childPid)).toBe(true);
  });
});
