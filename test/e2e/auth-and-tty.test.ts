import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enableAuth } from '../harness/auth.js';
import { runCli, startCli } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { startCliOnTty } from '../harness/tty.js';

let etcd: EtcdCluster;
let root: Etcd3;
const USER = 'svc';
const PASSWORD = 'correct horse';

beforeAll(async () => {
  etcd = await startEtcd();
  root = await enableAuth(etcd.endpoints, USER, PASSWORD);
});

afterAll(async () => {
  root?.close();
  await etcd?.stop();
});

const as = (args: string[]) => ['--endpoints', etcd.endpoints, '--user', USER, ...args];

describe('etcd authentication', () => {
  it('a user with readwrite on /services/ lists with the password from SVCREG_PASSWORD', async () => {
    await root.put('/services/web/w1').value(JSON.stringify({ service_id: 'w1', service_name: 'web', address: 'h', port: 1, registered_at: 1 }));
    const r = await runCli(as(['list', '-o', 'json']), { SVCREG_PASSWORD: PASSWORD });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ service: 'web', instances: 1, healthy: 1, malformed: 0 }]);
  });

  it('a wrong password exits 7 with one clear line', async () => {
    const r = await runCli(as(['list']), { SVCREG_PASSWORD: 'wrong' });
    expect(r.code).toBe(7);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/authentication failed/i);
  });

  it('a prefix outside the grant exits 7', async () => {
    const r = await runCli(as(['--prefix', '/other/', 'list']), { SVCREG_PASSWORD: PASSWORD });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/permission denied/i);
  });

  it('register and its revoke on SIGINT work with the granted role', async () => {
    const p = startCli(as(['register', 'api', '--id', 'a1', '--address', '127.0.0.1', '--port', '80']), { SVCREG_PASSWORD: PASSWORD });
    await p.waitFor(/registered/);
    expect(await root.get('/services/api/a1').string()).not.toBeNull();
    p.signal('SIGINT');
    expect((await p.exited).code).toBe(0);
    expect(await root.get('/services/api/a1').string()).toBeNull();
  });

  it('watch and purge work with the granted role', async () => {
    await root.put('/services/gone/g1').value(JSON.stringify({ service_id: 'g1', service_name: 'gone', address: 'h', port: 1, registered_at: 1 }));
    const watched = await runCli(as(['watch', 'gone', '--rev', '1', '--count', '1', '-o', 'ndjson']), { SVCREG_PASSWORD: PASSWORD });
    expect(watched.code, watched.stderr).toBe(0);
    expect(JSON.parse(watched.stdout)).toMatchObject({ type: 'PUT', key: '/services/gone/g1' });
    const purged = await runCli(as(['purge', 'gone', '--yes']), { SVCREG_PASSWORD: PASSWORD });
    expect(purged.code, purged.stderr).toBe(0);
    expect(await root.get('/services/gone/g1').string()).toBeNull();
  });

  it('reads the password from --password-file (its first line)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'svcreg-pw-')), 'password');
    writeFileSync(file, `${PASSWORD}\n`, { mode: 0o600 });
    const r = await runCli(as(['--password-file', file, 'list']));
    expect(r.code, r.stderr).toBe(0);
    rmSync(dirname(file), { recursive: true });
  });

  it('a --password-file others can read is used, with a warning', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'svcreg-pw-')), 'password');
    writeFileSync(file, `${PASSWORD}\n`, { mode: 0o644 });
    const r = await runCli(as(['--password-file', file, 'list']));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: --password-file ${file} is open to other users (mode 0644); chmod 600 it`);
    rmSync(dirname(file), { recursive: true });
  });

  it('an unreadable --password-file exits 2 naming the file', async () => {
    const r = await runCli(as(['--password-file', '/nonexistent/password', 'list']));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read --password-file \/nonexistent\/password: ENOENT/);
  });

  it('the password appears nowhere in output, errors or --debug logs', async () => {
    const runs = [
      await runCli(as(['--debug', 'list']), { SVCREG_PASSWORD: PASSWORD }),
      await runCli(as(['--debug', '--prefix', '/other/', 'list']), { SVCREG_PASSWORD: PASSWORD }),
      await runCli(as(['--debug', 'list']), { SVCREG_PASSWORD: 'wrong horse' }),
      await runCli(as(['--debug', '--endpoints', 'http://127.0.0.1:1', 'list']), { SVCREG_PASSWORD: PASSWORD }),
    ];
    expect(runs.map((r) => r.code)).toEqual([0, 7, 7, 3]);
    for (const r of runs) {
      expect(r.stdout + r.stderr).not.toContain('horse');
    }
  });

  it('a registrant keeps the password out of its argv and out of its child\'s environment', async () => {
    const child = `console.log('child sees ' + (process.env.SVCREG_PASSWORD ?? 'no password')); setInterval(() => {}, 1000)`;
    const p = startCli(as(['register', 'env', '--address', '127.0.0.1', '--port', '80', '--', process.execPath, '-e', child]), { SVCREG_PASSWORD: PASSWORD });
    try {
      await p.waitFor(/child sees/);
      expect(p.stdout).toContain('child sees no password');
      expect(readFileSync(`/proc/${p.pid}/cmdline`, 'utf8')).not.toContain('horse');
    } finally {
      await p.stop();
    }
  });

  it('without SVCREG_PASSWORD and not on a terminal it exits 2 before sending anything', async () => {
    const r = await runCli(as(['list']));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SVCREG_PASSWORD/);
  });

  it('refuses a password on the command line', async () => {
    const r = await runCli(['--endpoints', etcd.endpoints, '--user', `${USER}:${PASSWORD}`, 'list'], { SVCREG_PASSWORD: PASSWORD });
    expect(r.code).toBe(2);
  });

  it('on a terminal it prompts for the password without echoing it', async () => {
    const p = startCliOnTty(as(['list']));
    await p.waitFor(/Password for svc: /);
    p.child.stdin!.write(`${PASSWORD}\r`);
    const r = await p.exited;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/web\s+1/);
    expect(r.stdout).not.toContain(PASSWORD);
  });
});

describe('purge on a terminal', () => {
  const seed = (id: string) =>
    root.put(`/services/old/${id}`).value(JSON.stringify({ service_id: id, service_name: 'old', address: 'h', port: 1, registered_at: 1 }));

  it('shows what it will delete, deletes nothing when the answer is no, and exits 2 as without --yes', async () => {
    await seed('o1');
    const p = startCliOnTty(as(['purge', 'old']), { SVCREG_PASSWORD: PASSWORD });
    await p.waitFor(/Delete 1 entry under \/services\/old\/\? \[y\/N\] /);
    expect(p.stdout).toMatch(/\/services\/old\/o1/);
    p.child.stdin!.write('n\r');
    expect((await p.exited).code).toBe(2);
    expect(await root.get('/services/old/o1').string()).not.toBeNull();
  });

  it('deletes after a yes', async () => {
    await seed('o2');
    const p = startCliOnTty(as(['purge', 'old', '--id', 'o2']), { SVCREG_PASSWORD: PASSWORD });
    await p.waitFor(/\[y\/N\] /);
    p.child.stdin!.write('y\r');
    const r = await p.exited;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/deleted \/services\/old\/o2/);
    expect(await root.get('/services/old/o2').string()).toBeNull();
  });
});
