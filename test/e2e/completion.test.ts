/**
 * `svcreg completion bash|zsh|fish`: each script loaded in the real shell, which is asked
 * for completions as a TAB press asks (test/harness/shells.ts), against a real etcd; and
 * `svcreg __complete`, which the scripts call, on its own for what it must never print.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enableAuth } from '../harness/auth.js';
import { runCli } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { ShellSandbox, type ShellName } from '../harness/shells.js';
import { TmuxPane } from '../harness/tmux.js';
import { startCliOnTty } from '../harness/tty.js';

const PREFIX = '/completion/';
const PWNED = 'svcreg-pwned';
// Nothing listens on port 1: a connection to it is refused at once.
const REFUSED = 'http://127.0.0.1:1';
// Names other writers may put under the prefix: none may reach a shell's command line.
const HOSTILE = ['with space', "quo'te", 'dq"uote', 'dollar$HOME', `$(touch ${PWNED})`, `back\`touch ${PWNED}\`tick`, 'semi;colon', 'star*', '~tilde', 'pipe|x', 'back\\slash', 'bidi\u202eevil'];
const SERVICES = ['api', 'odd', 'web', 'web2'];

let etcd: EtcdCluster;
let raw: Etcd3;
const shells = new ShellSandbox();
const on = () => `--endpoints ${etcd.endpoints} --prefix ${PREFIX}`;

function seed(service: string, id: string) {
  return raw.put(`${PREFIX}${service}/${id}`).value(JSON.stringify({ service_id: id, service_name: service, address: '10.0.0.1', port: 80, registered_at: 1 }));
}

beforeAll(async () => {
  writeFileSync(join(shells.dir, 'cert.pem'), '');
  etcd = await startEtcd();
  raw = new Etcd3({ hosts: etcd.endpoints });
  await Promise.all([seed('web', 'w1'), seed('web', 'w2'), seed('web', 'a:80'), seed('web2', 'x1'), seed('api', 'a1'), seed('odd', 'ok-1')]);
  await Promise.all([...HOSTILE.map((name) => seed(name, 'i1')), ...HOSTILE.map((id) => seed('odd', id))]);
});

afterAll(async () => {
  raw?.close();
  await etcd?.stop();
  shells.remove();
});

const sorted = (words: string[]) => [...words].sort();

describe.each<ShellName>(['bash', 'zsh', 'fish'])('in %s', (shell) => {
  it('completes a command', async () => {
    expect((await shells.complete(shell, 'svcreg disc')).candidates).toEqual(['discover']);
  });

  it("completes a command's flags and the global ones", async () => {
    const { candidates } = await shells.complete(shell, 'svcreg discover --p');
    expect(sorted(candidates)).toEqual(['--password-file', '--pick', '--prefix']);
  });

  it('completes the -o formats', async () => {
    expect(sorted((await shells.complete(shell, 'svcreg -o ')).candidates)).toEqual(['addr', 'json', 'ndjson', 'table', 'template', 'wide', 'yaml']);
  });

  it('completes service names read from etcd, with the endpoints and prefix typed on the line', async () => {
    expect(sorted((await shells.complete(shell, `svcreg ${on()} discover `)).candidates)).toEqual(SERVICES);
  });

  it('completes the instance ids of the service typed, after --id', async () => {
    expect(sorted((await shells.complete(shell, `svcreg ${on()} purge web --id `)).candidates)).toEqual(['a:80', 'w1', 'w2']);
  });

  it('offers nothing, quickly, when etcd is unreachable', async () => {
    const r = await shells.complete(shell, `svcreg --endpoints ${REFUSED} discover `);
    expect(r.candidates).toEqual([]);
    expect(r.ms).toBeLessThan(5000);
  });

  it('leaves out names a shell would split, quote, expand or run, and runs none of them', async () => {
    const services = await shells.complete(shell, `svcreg ${on()} watch `);
    const ids = await shells.complete(shell, `svcreg ${on()} purge odd --id `);
    expect([sorted(services.candidates), ids.candidates]).toEqual([SERVICES, ['ok-1']]);
    expect(existsSync(join(shells.dir, PWNED))).toBe(false);
  });
});

describe('in bash', () => {
  it('narrows service names to what is typed, from SVCREG_ENDPOINTS and SVCREG_PREFIX when the line has none', async () => {
    const { candidates } = await shells.complete('bash', 'svcreg discover we', { env: { SVCREG_ENDPOINTS: etcd.endpoints, SVCREG_PREFIX: PREFIX } });
    expect(sorted(candidates)).toEqual(['web', 'web2']);
  });

  it('completes --output=<format> and ids holding ":" as bash inserts them, after the last = or :', async () => {
    const output = await shells.complete('bash', 'svcreg --output=nd');
    const id = await shells.complete('bash', `svcreg ${on()} purge web --id a:`);
    expect([output.candidates, id.candidates]).toEqual([['ndjson'], ['80']]);
  });

  it('completes the values a placeholder lists (--pick <first|random>, --on-lost <reregister|exit>)', async () => {
    const pick = await shells.complete('bash', 'svcreg discover web --pick ');
    const onLost = await shells.complete('bash', 'svcreg register web --on-lost ');
    expect([pick.candidates, onLost.candidates]).toEqual([
      ['first', 'random'],
      ['reregister', 'exit'],
    ]);
  });

  it("completes completion's shells", async () => {
    expect((await shells.complete('bash', 'svcreg completion ')).candidates).toEqual(['bash', 'zsh', 'fish']);
  });

  it("hands a file option's value to readline's own file name completion", async () => {
    const r = await shells.complete('bash', 'svcreg --cacert ');
    expect([r.candidates, r.shellDefault]).toEqual([[], true]);
  });

  it('offers nothing within its deadline when etcd does not answer (a frozen member)', async () => {
    const member = etcd.members[0];
    member.freeze();
    try {
      const r = await shells.complete('bash', `svcreg ${on()} discover `);
      expect(r.candidates).toEqual([]);
      expect(r.ms).toBeLessThan(4000);
    } finally {
      member.thaw();
    }
  });
});

describe('a TAB typed in an interactive bash', () => {
  let pane: TmuxPane;

  beforeAll(async () => {
    pane = await TmuxPane.run(['bash', '--norc', '--noprofile', '-i'], shells.env({ PS1: '$ ' }));
    await pane.keys(`source ${await shells.script('bash')}`, 'Enter');
  });

  afterAll(async () => {
    await pane?.stop();
  });

  it('inserts the one candidate in place, after the : that bash splits words at', async () => {
    await pane.keys('C-u', 'C-l', `svcreg ${on()} purge web --id a:`, 'Tab');
    await pane.waitFor(/--id a:80\s*$/m);
  });

  it("completes a file option's value as a file name", async () => {
    await pane.keys('C-u', 'C-l', `svcreg --cacert ${shells.dir}/ce`, 'Tab');
    await pane.waitFor(/--cacert \S+\/cert\.pem\s*$/m);
  });
});

describe.each<ShellName>(['zsh', 'fish'])('in %s', (shell) => {
  it('works installed where the shell looks for it, as the help says', async () => {
    const { candidates } = await shells.complete(shell, `svcreg ${on()} discover we`, { installed: true });
    expect(sorted(candidates)).toEqual(['web', 'web2']);
  });

  it("hands a file option's value to the shell's file name completion", async () => {
    const { candidates } = await shells.complete(shell, `svcreg --cacert ${shells.dir}/ce`);
    expect(candidates.some((c) => c.endsWith('cert.pem'))).toBe(true);
  });
});

describe('svcreg __complete', () => {
  it('prints nothing, on stdout or stderr, and exits 0 when etcd does not answer', async () => {
    const member = etcd.members[0];
    member.freeze();
    try {
      const r = await runCli(['__complete', '--', '--endpoints', etcd.endpoints, '--prefix', PREFIX, 'discover', '']);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
      expect(r.ms).toBeLessThan(4000);
    } finally {
      member.thaw();
    }
  });

  describe('with etcd authentication', () => {
    let secured: EtcdCluster;
    let root: Etcd3;
    const args = () => ['__complete', '--', '--endpoints', secured.endpoints, '--user', 'svc', 'discover', ''];

    beforeAll(async () => {
      secured = await startEtcd();
      root = await enableAuth(secured.endpoints, 'svc', 'secret');
      await root.put('/services/web/w1').value('{}');
    });

    afterAll(async () => {
      root?.close();
      await secured?.stop();
    });

    it('reads names as --user with SVCREG_PASSWORD', async () => {
      const r = await runCli(args(), { SVCREG_PASSWORD: 'secret' });
      expect([r.code, r.stdout, r.stderr]).toEqual([0, 'web\n', '']);
    });

    it('prints nothing, on stdout or stderr, when etcd denies the password', async () => {
      const r = await runCli(args(), { SVCREG_PASSWORD: 'wrong' });
      expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
    });

    it('never asks for a password, even on a terminal', async () => {
      const p = startCliOnTty(args());
      // A prompt would wait for an answer: stop it after a while and show what it printed.
      const r = await Promise.race([p.exited, new Promise((r) => setTimeout(r, 10_000)).then(() => p.stop())]);
      expect([r.code, r.stdout]).toEqual([0, '']);
    });
  });
});

describe('svcreg completion', () => {
  it('an unknown shell is a usage error, naming the choices', async () => {
    const r = await runCli(['completion', 'tcsh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Allowed choices are bash, zsh, fish/);
  });

  it('--help shows how to load the script in each shell', async () => {
    const r = await runCli(['completion', '--help']);
    expect(r.stdout).toMatch(/source <\(svcreg completion bash\)/);
    expect(r.stdout).toMatch(/svcreg completion zsh > /);
    expect(r.stdout).toMatch(/svcreg completion fish > ~\/\.config\/fish\/completions\/svcreg\.fish/);
  });
});
