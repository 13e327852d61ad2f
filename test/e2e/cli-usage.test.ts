/**
 * What the CLI says about its input and its findings: help and the version, errors
 * from environment variables name the variable, commander's errors look like svcreg's,
 * `-o=json`, and what discover and purge say (and exit with) when nothing, or too
 * little, matches.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli, type CliResult } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { startCliOnTty } from '../harness/tty.js';

let etcd: EtcdCluster;
let raw: Etcd3;
let n = 0;

const freshPrefix = () => `/usage-${++n}/`;
const svcreg = (prefix: string, args: string[], env: Record<string, string> = {}) => runCli(['--endpoints', etcd.endpoints, '--prefix', prefix, ...args], env);
const describeResult = (r: CliResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** A seed-format instance of web; `critical` gives it a failing health check. */
function seed(prefix: string, id: string, options: { tags?: string[]; critical?: boolean } = {}) {
  const value = { service_id: id, service_name: 'web', address: '10.0.0.1', port: 80, tags: options.tags ?? [], metadata: {}, registered_at: 1 };
  const health = options.critical ? { health: { status: 'critical', output: 'down', checked_at: 1 } } : {};
  return raw.put(`${prefix}web/${id}`).value(JSON.stringify({ ...value, ...health }));
}

beforeAll(async () => {
  etcd = await startEtcd();
  raw = new Etcd3({ hosts: etcd.endpoints });
});

afterAll(async () => {
  raw?.close();
  await etcd?.stop();
});

describe('help and the version', () => {
  it('--help through a pipe is the usage with every command, exit 0, nothing on stderr', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: svcreg /);
    for (const command of ['register', 'list', 'discover', 'describe', 'watch', 'render', 'purge', 'status', 'context', 'completion']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect(r.stderr).toBe('');
  });

  it('--help on a terminal is wrapped to its width (100 columns here), not to 80', async () => {
    const r = await startCliOnTty(['--help']).exited;
    expect(r.code).toBe(0);
    const lines = r.stdout.split(/\r?\n/);
    expect(lines[0]).toMatch(/Usage: svcreg /);
    expect(Math.max(...lines.map((l) => l.length))).toBeGreaterThan(80);
    expect(lines.every((l) => l.length <= 100)).toBe(true);
  });

  it('--version prints the package version, exit 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('--help to a reader that has gone exits 0 and says nothing', () => {
    // `true` has exited by the time the help is written: the write meets a closed pipe.
    const script = `{ sleep 0.3; "${process.execPath}" "${BIN}" --help; echo "exit $?" >&2; } | true`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: cliEnv(), timeout: 30_000 });
    expect(r.stderr).toBe('exit 0\n');
  });

  it('--help through a pipe loads no stream, socket or child-process module (4-8 ms of a start)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'svcreg-help-'));
    try {
      const preload = join(dir, 'modules.cjs');
      writeFileSync(preload, "process.on('exit', () => require('node:fs').writeFileSync(process.env.MODULES_OUT, process.moduleLoadList.join('\\n')));");
      const out = join(dir, 'modules.txt');
      const r = spawnSync(process.execPath, ['--require', preload, BIN, '--help'], { encoding: 'utf8', env: cliEnv({ MODULES_OUT: out }), timeout: 30_000 });
      expect(r.status).toBe(0);
      const loaded = readFileSync(out, 'utf8').split('\n');
      expect(loaded, 'the list of modules was not written; the test proves nothing').toContain('NativeModule vm');
      expect(loaded.filter((m) => /^NativeModule (stream|net|child_process|tty)$/.test(m))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('errors name where the input came from', () => {
  it('an SVCREG_OUTPUT that does not fit the command is named as SVCREG_OUTPUT', async () => {
    const r = await svcreg(freshPrefix(), ['purge', 'web', '--dry-run'], { SVCREG_OUTPUT: 'addr' });
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toMatch(/^svcreg: error: invalid SVCREG_OUTPUT "addr"/);
  });

  it('an invalid SVCREG_TIMEOUT is named as SVCREG_TIMEOUT', async () => {
    const r = await svcreg(freshPrefix(), ['discover', 'web'], { SVCREG_TIMEOUT: 'bogus' });
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toMatch(/^svcreg: error: invalid duration for SVCREG_TIMEOUT: "bogus"/);
  });

  it("commander's own errors carry the svcreg: prefix", async () => {
    const r = await svcreg(freshPrefix(), ['--bogus', 'list']);
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toMatch(/^svcreg: error: unknown option '--bogus'/);
  });

  it('-o=json is read as json', async () => {
    const p = freshPrefix();
    await seed(p, 'w1');
    const r = await svcreg(p, ['-o=json', 'discover', 'web']);
    expect(r.code, describeResult(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject([{ service_id: 'w1' }]);
  });
});

describe('discover says what it found', () => {
  it('instances registered but none passing: "2 registered, 0 passing"', async () => {
    const p = freshPrefix();
    await seed(p, 'w1', { critical: true });
    await seed(p, 'w2', { critical: true });
    const r = await svcreg(p, ['discover', 'web']);
    expect(r.code, describeResult(r)).toBe(4);
    expect(r.stderr).toMatch(/no passing instance of web matches: 2 registered, 0 passing; --all includes/);
  });

  it('a tag filter that excludes every instance: "2 registered, none with tag v1", with no advice about --all', async () => {
    const p = freshPrefix();
    await seed(p, 'w1', { tags: ['v2'] });
    await seed(p, 'w2', { tags: ['v2'] });
    const r = await svcreg(p, ['discover', 'web', '--tag', 'v1']);
    expect(r.code, describeResult(r)).toBe(4);
    expect(r.stderr).toMatch(/2 registered, none with tag v1/);
    expect(r.stderr).not.toMatch(/--all/);
  });

  it('nothing registered: says so', async () => {
    const r = await svcreg(freshPrefix(), ['discover', 'web']);
    expect(r.code, describeResult(r)).toBe(4);
    expect(r.stderr).toMatch(/no instance of web is registered/);
  });

  it('after --wait-timeout: what was found when it gave up', async () => {
    const p = freshPrefix();
    await seed(p, 'w1', { critical: true });
    const r = await svcreg(p, ['discover', 'web', '--wait-timeout', '1s']);
    expect(r.code, describeResult(r)).toBe(4);
    expect(r.stderr).toMatch(/timed out waiting for 1 instance of web: 1 registered, 0 passing/);
  });

  it('--min without --wait: fewer than --min prints nothing, exits 4 and says why', async () => {
    const p = freshPrefix();
    await seed(p, 'w1');
    await seed(p, 'w2');
    const r = await svcreg(p, ['discover', 'web', '--min', '5', '-o', 'addr']);
    expect(r.code, describeResult(r)).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/only 2 instances of web match, fewer than --min 5: 2 registered, 2 passing; --wait waits for them/);
  });
});

describe('purge', () => {
  it('exits 4 when nothing matches, so a typo fails a script', async () => {
    const r = await svcreg(freshPrefix(), ['purge', 'nosuch', '--yes']);
    expect(r.code, describeResult(r)).toBe(4);
    expect(r.stderr).toMatch(/nothing to delete under \/usage-\d+\/nosuch\//);
  });

  it('--id that matches nothing names the id', async () => {
    const p = freshPrefix();
    await seed(p, 'w1');
    const r = await svcreg(p, ['purge', 'web', '--id', 'nope', '--yes']);
    expect(r.code, describeResult(r)).toBe(4);
    expect(r.stderr).toContain(`nothing to delete at ${p}web/nope`);
    expect(await raw.get(`${p}web/w1`).string()).not.toBeNull();
  });

  it('counts with thousands separators in both its plan and its result', async () => {
    const p = freshPrefix();
    for (let i = 0; i < 1200; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => seed(p, `w${i + j}`)));
    }
    const dry = await svcreg(p, ['purge', 'web', '--dry-run']);
    expect(dry.stderr).toMatch(/would delete 1,200 entries/);
    const r = await svcreg(p, ['purge', 'web', '--yes']);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stderr).toMatch(/deleted 1,200 of 1,200 entries under/);
  });
});
