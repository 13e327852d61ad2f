/**
 * `register` and what it runs or follows: arguments around `--`, a command checked
 * before anything is advertised, the child's view of its registration, `--pid`, and
 * what a registrant says about its registration (takeover, TTL, names, drain).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CliProcess, cliEnv, runCli, startCli } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';

let etcd: EtcdCluster;
let raw: Etcd3;
let n = 0;
const started: CliProcess[] = [];
const REFUSED = 'http://127.0.0.1:1';

function flags(): { prefix: string; args: string[] } {
  const prefix = `/child-${++n}/`;
  return { prefix, args: ['--endpoints', etcd.endpoints, '--prefix', prefix] };
}

function start(args: string[]): CliProcess {
  const p = startCli(args);
  started.push(p);
  return p;
}

const get = (key: string) => raw.get(key).string();
const node = (script: string) => ['--', process.execPath, '-e', script];
const hasStackTrace = (text: string) => /^\s+at .+/m.test(text);

async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  etcd = await startEtcd();
  raw = new Etcd3({ hosts: etcd.endpoints });
});

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
  raw?.close();
  await etcd?.stop();
});

describe('register -- command: arguments', () => {
  it('a stray argument before -- is a usage error (exit 2), and nothing runs or is registered', async () => {
    const { prefix, args } = flags();
    const dir = mkdtempSync(join(tmpdir(), 'svcreg-stray-'));
    const marker = join(dir, 'ran');
    const r = await runCli([...args, 'register', 'web', 'typo', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', ...node(`require('fs').writeFileSync(${JSON.stringify(marker)}, '')`)]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^svcreg: error: unexpected argument "typo"/);
    expect(existsSync(marker)).toBe(false);
    expect(await get(`${prefix}web/w1`)).toBeNull();
    rmSync(dir, { recursive: true });
  });

  it('--debug after -- belongs to the command: svcreg prints no stack trace', async () => {
    const r = await runCli(['--endpoints', REFUSED, '--timeout', '1s', 'register', 'web', '--address', '127.0.0.1', '--port', '80', '--', process.execPath, '-e', '1', '--debug'], {}, 20_000);
    expect(r.code, r.stderr).toBe(3);
    expect(hasStackTrace(r.stderr), r.stderr).toBe(false);
  });
});

describe('register -- command: a command that cannot run', () => {
  it.each([
    ['a path that does not exist', './nonexistent-command'],
    ['a name not on PATH', 'svcreg-no-such-command'],
  ])('%s exits 127 before anything is registered or printed', async (_what, command) => {
    const { prefix, args } = flags();
    const r = await runCli([...args, 'register', 'web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', '-o', 'json', '--', command]);
    expect(r.code, r.stderr).toBe(127);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`cannot run ${command}`);
    expect(await get(`${prefix}web/w1`)).toBeNull();
  });
});

describe('register -- command: the environment of the command', () => {
  it('names the registration: SVCREG_SERVICE, SVCREG_ID, SVCREG_INSTANCE_KEY and SVCREG_LEASE', async () => {
    const { prefix, args } = flags();
    const script = `const e = process.env; console.log('env ' + JSON.stringify([e.SVCREG_SERVICE, e.SVCREG_ID, e.SVCREG_INSTANCE_KEY, e.SVCREG_LEASE]))`;
    const r = await runCli([...args, 'register', 'web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', '-o', 'json', ...node(script)]);
    expect(r.code, r.stderr).toBe(0);
    const registered = JSON.parse(r.stdout.split('\n')[0]);
    const [service, id, key, lease] = JSON.parse(r.stdout.match(/^env (.*)$/m)![1]);
    expect({ service, id, key, lease }).toEqual({ service: 'web', id: 'w1', key: `${prefix}web/w1`, lease: registered.lease });
  });
});

describe('register --pid', () => {
  it('a registrant backgrounded by a /bin/sh script deregisters and exits when the script is killed with SIGKILL', async () => {
    const { prefix, args } = flags();
    const dir = mkdtempSync(join(tmpdir(), 'svcreg-pid-'));
    const script = join(dir, 'worker.sh');
    // The README's recipe, reduced: no trap can run on SIGKILL, so only --pid can clean up.
    writeFileSync(script, `"$@" --pid $$ > /dev/null &\necho "registrant $!"\nwait\n`);
    const sh = new CliProcess(
      spawn('/bin/sh', [script, process.execPath, BIN, ...args, 'register', 'batch', '--id', 'b1', '--address', '127.0.0.1', '--port', '9000'], {
        env: cliEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    started.push(sh);
    const registrant = Number((await sh.waitFor(/registrant (\d+)/))[1]);
    try {
      expect(await eventually(async () => (await get(`${prefix}batch/b1`)) !== null)).toBe(true);
      process.kill(sh.pid, 'SIGKILL');
      await sh.exited;
      expect(await eventually(async () => (await get(`${prefix}batch/b1`)) === null)).toBe(true);
      expect(await eventually(async () => !running(registrant))).toBe(true);
    } finally {
      if (running(registrant)) process.kill(registrant, 'SIGKILL');
      rmSync(dir, { recursive: true });
    }
  });
});

describe('what a registrant says', () => {
  it('taken over by another registrant: says so, not "deregistered", and does not advise --replace', async () => {
    const { args } = flags();
    const first = start([...args, 'register', 'web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', '--ttl', '3']);
    await first.waitFor(/registered/);
    const second = start([...args, 'register', 'web', '--id', 'w1', '--address', '127.0.0.1', '--port', '81', '--replace']);
    await second.waitFor(/registered/);
    const r = await first.exited;
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toMatch(/was taken over: it is now held by another registrant/);
    expect(r.stdout + r.stderr).not.toMatch(/deregistered/);
    expect(r.stderr).not.toMatch(/pass --replace/);
    await second.stop();
  });

  it('warns when etcd grants a longer TTL than --ttl (its minimum)', async () => {
    const { args } = flags();
    const p = start([...args, 'register', 'web', '--address', '127.0.0.1', '--port', '80', '--ttl', '1']);
    await p.waitFor(/registered/);
    await p.waitFor(/warning: etcd granted a 2s lease for --ttl 1/, { stream: 'stderr' });
    await p.stop();
  });

  it('warns about a service name with whitespace, and registers it', async () => {
    const { prefix, args } = flags();
    const p = start([...args, 'register', 'my service', '--id', 'm1', '--address', '127.0.0.1', '--port', '80']);
    await p.waitFor(/registered/);
    await p.waitFor(/warning: service name "my service" contains whitespace/, { stream: 'stderr' });
    expect(await get(`${prefix}my service/m1`)).not.toBeNull();
    await p.stop();
  });

  it('--drain 5s says "stopping in 5s"', async () => {
    const { args } = flags();
    const p = start([...args, 'register', 'web', '--address', '127.0.0.1', '--port', '80', '--drain', '5s']);
    await p.waitFor(/registered/);
    p.signal('SIGTERM');
    await p.waitFor(/stopping in 5s \(/, { stream: 'stderr' });
    p.signal('SIGTERM');
    expect((await p.exited).code).toBe(0);
  });
});
