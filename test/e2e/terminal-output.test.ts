// What a person sees on a terminal: tables and lines from hostile entries, health,
// unleased and malformed entries, -o wide, Ctrl-C, and colour. Every CLI here runs on
// a real pseudo-terminal (`script`, or tmux where what matters is what the pane shows).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { startCliOnTty } from '../harness/tty.js';

let etcd: EtcdCluster;
let raw: Etcd3;
let dir: string;
let prefixes = 0;

beforeAll(async () => {
  etcd = await startEtcd();
  raw = new Etcd3({ hosts: etcd.endpoints, grpcOptions: { 'grpc.max_send_message_length': -1 } });
  dir = mkdtempSync(join(tmpdir(), 'svcreg-terminal-'));
});

afterAll(async () => {
  raw?.close();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A prefix of its own for each test. */
const freshPrefix = () => `/term${++prefixes}/`;

const value = (service: string, id: string, over: Record<string, unknown> = {}) =>
  JSON.stringify({ service_id: id, service_name: service, address: '10.0.0.1', port: 8080, tags: ['v1'], metadata: { zone: 'a' }, registered_at: Date.now() / 1000, ...over });

// The fake status, in an address, a tag and metadata; a window title with BEL; an 8-bit CSI.
const CLEAR_AND_LIE = '\u001b[2J\u001b[HALL GOOD: 0 instances';
const evil = (service: string, id: string) =>
  value(service, id, { address: `10.0.0.9${CLEAR_AND_LIE}`, tags: [CLEAR_AND_LIE], metadata: { title: '\u001b]0;pwned\u0007', csi: '\u009b2J' } });

/** Bytes that would act on a terminal; the spinner's own cursor codes are not among them. */
function expectNothingRaw(shown: string): void {
  expect(shown).not.toContain('\u001b[2J');
  expect(shown).not.toContain('\u001b[H');
  expect(shown).not.toContain('\u001b]0;');
  expect(shown).not.toContain('\u0007');
  expect(shown).not.toContain('\u009b');
}

async function withLease(key: string, text: string): Promise<void> {
  const lease = raw.lease(60, { autoKeepAlive: false });
  await lease.put(key).value(text);
}

const run = (args: string[], env: Record<string, string | undefined> = {}) => startCliOnTty(['--endpoints', etcd.endpoints, ...args], env).exited;

describe('control characters from etcd never reach the terminal raw', () => {
  it('list --instances shows an entry full of escape sequences escaped', async () => {
    const p = freshPrefix();
    await raw.put(`${p}evil/e1`).value(evil('evil', 'e1'));
    const r = await run(['--prefix', p, 'list', '--instances']);
    expect(r.code).toBe(0);
    expectNothingRaw(r.stdout);
    expect(r.stdout).toContain('\\x1b[2J\\x1b[HALL GOOD: 0 instances');
  });

  it('discover shows an entry full of escape sequences escaped', async () => {
    const p = freshPrefix();
    await raw.put(`${p}evil/e1`).value(evil('evil', 'e1'));
    const r = await run(['--prefix', p, 'discover', 'evil']);
    expect(r.code).toBe(0);
    expectNothingRaw(r.stdout);
    expect(r.stdout).toContain('\\x1b]0;pwned\\x07');
  });

  it('purge --dry-run shows an entry full of escape sequences escaped', async () => {
    const p = freshPrefix();
    await raw.put(`${p}evil/e1`).value(evil('evil', 'e1'));
    const r = await run(['--prefix', p, 'purge', 'evil', '--dry-run']);
    expect(r.code).toBe(0);
    expectNothingRaw(r.stdout);
    expect(r.stdout).toContain('10.0.0.9\\x1b[2J');
  });

  it('the watch line shows an entry full of escape sequences escaped', async () => {
    const p = freshPrefix();
    const watch = await etcd.startWatching(() => startCliOnTty(['--endpoints', etcd.endpoints, '--prefix', p, 'watch', '--count', '1']));
    await raw.put(`${p}evil/e1`).value(evil('evil', 'e1'));
    const r = await watch.exited;
    expect(r.code).toBe(0);
    expectNothingRaw(r.stdout);
    expect(r.stdout).toMatch(/PUT +evil\/e1 +\[10\.0\.0\.9\\x1b\[2J/);
  });

  it('malformed-entry warnings show keys escaped', async () => {
    const p = freshPrefix();
    await raw.put(`${p}evil/x${CLEAR_AND_LIE}`).value('not json');
    const r = await run(['--prefix', p, 'list']);
    expect(r.code).toBe(0);
    expectNothingRaw(r.stdout);
    expect(r.stdout).toContain(`warning: malformed entry ${p}evil/x\\x1b[2J`);
  });

  it('a key with a newline stays on its own table row', async () => {
    const p = freshPrefix();
    await raw.put(`${p}web/a\nweb  b  fake-row`).value('x');
    const r = await run(['--prefix', p, 'list', '--instances']);
    expect(r.code).toBe(0);
    const rows = r.stdout.split('\r\n').filter((l) => /^web /.test(l));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain('a\\nweb  b  fake-row');
  });

  it('in tmux, discover of a hostile entry leaves the table on the pane and no fake status', async () => {
    const p = freshPrefix();
    await raw.put(`${p}evil/e1`).value(evil('evil', 'e1'));
    const socket = `svcreg-test-${process.pid}-${prefixes}`;
    const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
    const command = [process.execPath, BIN, '--endpoints', etcd.endpoints, '--prefix', p, 'discover', 'evil'].join(' ');
    tmux('new-session', '-d', '-x', '200', '-y', '30', `printf 'before\\n'; ${command}; echo "exit=$?"; sleep 600`);
    const server = Number(tmux('display-message', '-p', '#{pid}').trim());
    try {
      let pane = '';
      for (let i = 0; i < 300 && !/exit=\d+/.test(pane); i++) {
        await new Promise((r) => setTimeout(r, 100));
        pane = tmux('capture-pane', '-p');
      }
      expect(pane).toMatch(/exit=0/);
      const lines = pane.split('\n');
      expect(lines[0]).toBe('before');
      expect(lines[1]).toMatch(/^SERVICE +ID +ADDRESS/);
      expect(pane).not.toMatch(/^ALL GOOD/m);
    } finally {
      process.kill(server, 'SIGTERM');
    }
  });
});

describe('tables', () => {
  it('a "critical" health string shows critical, as discover reads it', async () => {
    const p = freshPrefix();
    await withLease(`${p}web/w1`, value('web', 'w1', { health: 'critical' }));
    const r = await run(['--prefix', p, 'list', '--instances']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/web +w1 +10\.0\.0\.1:8080 +critical +v1/);
  });

  it('the HEALTH column is there when no instance runs checks', async () => {
    const p = freshPrefix();
    await withLease(`${p}web/w1`, value('web', 'w1'));
    const r = await run(['--prefix', p, 'list', '--instances']);
    expect(r.stdout).toMatch(/SERVICE +ID +ADDRESS +HEALTH +TAGS +METADATA +AGE +NOTE/);
  });

  it('an entry written without a lease is marked "no lease"', async () => {
    const p = freshPrefix();
    await raw.put(`${p}web/w1`).value(value('web', 'w1'));
    const r = await run(['--prefix', p, 'list', '--instances']);
    expect(r.stdout).toMatch(/web +w1 +10\.0\.0\.1:8080 .* no lease\r\n/);
  });

  it('a malformed entry says so under NOTE, not under ADDRESS', async () => {
    const p = freshPrefix();
    await raw.put(`${p}web/broken`).value('not json');
    const r = await run(['--prefix', p, 'list', '--instances']);
    expect(r.stdout).toMatch(/web +broken +- +- +- +- +- +malformed: value is not JSON\r\n/);
  });

  it('an empty listing says "no instances" and prints no table', async () => {
    const p = freshPrefix();
    const file = join(dir, 'empty.txt');
    const r = await startCliOnTty(['--endpoints', etcd.endpoints, '--prefix', p, 'list', '--instances'], {}, { stdoutFile: file }).exited;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/svcreg: no instances/);
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('-o wide shows the lease, its time left and the revisions', async () => {
    const p = freshPrefix();
    await withLease(`${p}web/w1`, value('web', 'w1'));
    const [kv] = (await raw.getAll().prefix(p).exec()).kvs;
    const r = await run(['--prefix', p, 'list', '--instances', '-o', 'wide']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/AGE +LEASE +TTL +CREATE_REV +MOD_REV/);
    expect(r.stdout).toMatch(new RegExp(` ${BigInt(kv.lease).toString(16)} +\\d+s +${kv.create_revision} +${kv.mod_revision}\\r\\n`));
  });

  it('a 1.4 MiB metadata value among 20 entries makes a small table', async () => {
    const p = freshPrefix();
    for (let i = 0; i < 19; i++) await raw.put(`${p}s/i${i}`).value(value('s', `i${i}`));
    await raw.put(`${p}s/big`).value(value('s', 'big', { metadata: { blob: 'x'.repeat(1.4 * 1024 * 1024) } }));
    const file = join(dir, 'big.txt');
    const r = await startCliOnTty(['--endpoints', etcd.endpoints, '--prefix', p, 'list', '--instances'], {}, { stdoutFile: file }).exited;
    expect(r.code).toBe(0);
    const table = readFileSync(file, 'utf8');
    expect(table.trim().split('\n')).toHaveLength(21);
    expect(table.length).toBeLessThan(10_000);
  });

  it('Ctrl-C stops a listing on a terminal at once', async () => {
    const p = freshPrefix();
    await raw.put(`${p}web/w1`).value(value('web', 'w1'));
    const member = etcd.members[0];
    // A frozen etcd holds the listing mid-read, however fast this machine is.
    member.freeze();
    try {
      const cli = startCliOnTty(['--endpoints', etcd.endpoints, '--timeout', '60s', '--prefix', p, 'list', '--instances']);
      await new Promise((r) => setTimeout(r, 2000));
      const sent = Date.now();
      cli.child.stdin!.write('\u0003');
      const r = await cli.exited;
      expect(r.code).toBe(130);
      expect(Date.now() - sent).toBeLessThan(10_000);
    } finally {
      member.thaw();
    }
  });
});

describe('watch on a terminal', () => {
  it('says on stderr once the watch is live, and from which revision', async () => {
    const p = freshPrefix();
    const watch = startCliOnTty(['--endpoints', etcd.endpoints, '--prefix', p, 'watch', 'web', '--count', '1']);
    const [, revision] = await watch.waitFor(new RegExp(`svcreg: watching ${p}web/ from revision (\\d+)`), { timeoutMs: 30_000 });
    const put = await raw.put(`${p}web/w1`).value(value('web', 'w1'));
    const r = await watch.exited;
    expect(r.code).toBe(0);
    expect(Number(revision)).toBeLessThanOrEqual(Number(put.header.revision));
    expect(r.stdout).toMatch(/PUT +web\/w1/);
  });

  it('a PUT that flips health shows the new health and the old', async () => {
    const p = freshPrefix();
    await raw.put(`${p}web/w1`).value(value('web', 'w1', { health: { status: 'passing', output: 'ok', checked_at: 1 } }));
    const watch = await etcd.startWatching(() => startCliOnTty(['--endpoints', etcd.endpoints, '--prefix', p, 'watch', '--count', '1']));
    await raw.put(`${p}web/w1`).value(value('web', 'w1', { health: { status: 'critical', output: 'HTTP 503', checked_at: 2 } }));
    const r = await watch.exited;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/PUT +web\/w1 +10\.0\.0\.1:8080 +critical \(was passing\) +rev=\d+/);
  });
});

it('an empty NO_COLOR leaves colour on, as the NO_COLOR convention says', async () => {
  const p = freshPrefix();
  await withLease(`${p}web/w1`, value('web', 'w1', { health: 'passing' }));
  const r = await run(['--prefix', p, 'list', '--instances'], { TERM: 'xterm', NO_COLOR: '' });
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/\u001b\[32mpassing\u001b\[39m/);
});
