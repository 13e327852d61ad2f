/**
 * Named contexts from the config file, through the built CLI against real etcd processes
 * (plain, with auth, with TLS). Every config file lives in a temporary home of its own.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enableAuth } from '../harness/auth.js';
import { runCli, startCli, type CliResult } from '../harness/cli.js';
import { makeCerts, type Certs } from '../harness/certs.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';

/** A loopback port nothing listens on: a context that points there must not be the one used. */
const REFUSED = 'http://127.0.0.1:1';

const homes: string[] = [];
afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

interface ConfigHome {
  /** The environment that points the CLI at this home. */
  env: Record<string, string>;
  dir: string;
  file: string;
}

/** A fresh home whose $XDG_CONFIG_HOME/svcreg/config.json holds `document` (none when undefined). */
function configHome(document: unknown, mode = 0o600): ConfigHome {
  const home = mkdtempSync(join(tmpdir(), 'svcreg-contexts-'));
  homes.push(home);
  const dir = join(home, 'svcreg');
  const file = join(dir, 'config.json');
  mkdirSync(dir);
  if (document !== undefined) {
    writeFileSync(file, JSON.stringify(document, null, 2));
    chmodSync(file, mode);
  }
  return { env: { HOME: home, XDG_CONFIG_HOME: home }, dir, file };
}

const said = (r: CliResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

describe('contexts against a plain etcd', () => {
  let etcd: EtcdCluster;
  let raw: Etcd3;
  let n = 0;
  const freshPrefix = () => `/ctx-${++n}/`;
  /** One instance of web under `prefix`, at `address`:80. */
  const seed = (prefix: string, address: string) =>
    raw.put(`${prefix}web/w1`).value(JSON.stringify({ service_id: 'w1', service_name: 'web', address, port: 80, tags: [], metadata: {}, registered_at: 1 }));

  beforeAll(async () => {
    etcd = await startEtcd();
    raw = new Etcd3({ hosts: etcd.endpoints });
  });
  afterAll(async () => {
    raw?.close();
    await etcd?.stop();
  });

  it("the current context's endpoints and prefix are where register writes and discover reads", async () => {
    const prefix = freshPrefix();
    const { env } = configHome({ 'current-context': 'dev', contexts: { dev: { endpoints: [etcd.endpoints], prefix } } });
    const reg = startCli(['register', 'api', '--id', 'a1', '--address', '127.0.0.1', '--port', '8080'], env);
    try {
      await reg.waitFor(/registered/);
      expect(await raw.get(`${prefix}api/a1`).string()).not.toBeNull();
      const found = await runCli(['discover', 'api', '-o', 'addr'], env);
      expect(found.stdout, said(found)).toBe('127.0.0.1:8080\n');
    } finally {
      await reg.stop();
    }
  });

  it('SVCREG_CONTEXT wins over current-context', async () => {
    const prefix = freshPrefix();
    await seed(prefix, '10.0.0.2');
    const { env } = configHome({ 'current-context': 'dead', contexts: { dead: { endpoints: [REFUSED] }, live: { endpoints: [etcd.endpoints], prefix } } });
    const r = await runCli(['discover', 'web', '-o', 'addr'], { ...env, SVCREG_CONTEXT: 'live' });
    expect(r.stdout, said(r)).toBe('10.0.0.2:80\n');
  });

  it('--context wins over SVCREG_CONTEXT', async () => {
    const prefix = freshPrefix();
    await seed(prefix, '10.0.0.3');
    const { env } = configHome({ contexts: { dead: { endpoints: [REFUSED] }, live: { endpoints: [etcd.endpoints], prefix } } });
    const r = await runCli(['--context', 'live', 'discover', 'web', '-o', 'addr'], { ...env, SVCREG_CONTEXT: 'dead' });
    expect(r.stdout, said(r)).toBe('10.0.0.3:80\n');
  });

  it("a --prefix flag wins over the context's prefix", async () => {
    const [inContext, inFlag] = [freshPrefix(), freshPrefix()];
    await seed(inContext, '10.0.0.4');
    await seed(inFlag, '10.0.0.5');
    const { env } = configHome({ 'current-context': 'dev', contexts: { dev: { endpoints: [etcd.endpoints], prefix: inContext } } });
    const r = await runCli(['--prefix', inFlag, 'discover', 'web', '-o', 'addr'], env);
    expect(r.stdout, said(r)).toBe('10.0.0.5:80\n');
  });

  it("SVCREG_ENDPOINTS wins over the context's endpoints", async () => {
    const prefix = freshPrefix();
    await seed(prefix, '10.0.0.6');
    const { env } = configHome({ 'current-context': 'dead', contexts: { dead: { endpoints: [REFUSED], prefix } } });
    const r = await runCli(['discover', 'web', '-o', 'addr'], { ...env, SVCREG_ENDPOINTS: etcd.endpoints });
    expect(r.stdout, said(r)).toBe('10.0.0.6:80\n');
  });

  it('SVCREG_CONFIG names the file read instead of the one in XDG_CONFIG_HOME', async () => {
    const prefix = freshPrefix();
    await seed(prefix, '10.0.0.7');
    const xdg = configHome({ 'current-context': 'dead', contexts: { dead: { endpoints: [REFUSED] } } });
    const named = configHome({ 'current-context': 'live', contexts: { live: { endpoints: [etcd.endpoints], prefix } } });
    const r = await runCli(['discover', 'web', '-o', 'addr'], { ...xdg.env, SVCREG_CONFIG: named.file });
    expect(r.stdout, said(r)).toBe('10.0.0.7:80\n');
  });

  it('without XDG_CONFIG_HOME the file is ~/.config/svcreg/config.json', async () => {
    const prefix = freshPrefix();
    await seed(prefix, '10.0.0.8');
    const home = mkdtempSync(join(tmpdir(), 'svcreg-contexts-'));
    homes.push(home);
    mkdirSync(join(home, '.config', 'svcreg'), { recursive: true });
    writeFileSync(join(home, '.config', 'svcreg', 'config.json'), JSON.stringify({ 'current-context': 'dev', contexts: { dev: { endpoints: [etcd.endpoints], prefix } } }));
    const r = await runCli(['discover', 'web', '-o', 'addr'], { HOME: home, XDG_CONFIG_HOME: undefined });
    expect(r.stdout, said(r)).toBe('10.0.0.8:80\n');
  });

  it('an unknown --context exits 2, naming it and the contexts the file has', async () => {
    const { env, file } = configHome({ contexts: { dev: { endpoints: [etcd.endpoints] } } });
    const r = await runCli(['--context', 'prod', 'list'], env);
    expect(r.code, said(r)).toBe(2);
    expect(r.stderr).toBe(`svcreg: error: --context "prod" is not a context of ${file}; its contexts: dev\n`);
  });

  it('a current-context naming no context exits 2, pointing at svcreg context use', async () => {
    const { env } = configHome({ 'current-context': 'gone', contexts: { dev: { endpoints: [etcd.endpoints] } } });
    const r = await runCli(['list'], env);
    expect(r.code, said(r)).toBe(2);
    expect(r.stderr).toMatch(/current-context "gone" is not a context of .*; svcreg context use NAME picks one of: dev/);
  });

  it('--context without any config file exits 2, saying there is none', async () => {
    const { env, file } = configHome(undefined);
    const r = await runCli(['--context', 'dev', '--endpoints', etcd.endpoints, 'list'], env);
    expect(r.code, said(r)).toBe(2);
    expect(r.stderr).toContain(`--context "dev": there is no config file ${file}`);
  });

  it('a misspelt key exits 2 naming the file and the key, rather than using the default endpoint', async () => {
    const { env, file } = configHome({ 'current-context': 'dev', contexts: { dev: { endpoint: [etcd.endpoints] } } });
    const r = await runCli(['list'], env);
    expect(r.code, said(r)).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^svcreg: error: ${file}: contexts\\.dev\\.endpoint: unknown key; a context may hold: endpoints, `));
  });

  it('a file that is not JSON exits 2 naming the file', async () => {
    const { env, file } = configHome(undefined);
    writeFileSync(file, '{ "contexts": { "dev": ');
    const r = await runCli(['--endpoints', etcd.endpoints, 'list'], env);
    expect(r.code, said(r)).toBe(2);
    expect(r.stderr).toContain(`svcreg: error: ${file}: not valid JSON`);
  });

  it('no config file: commands run as they did before contexts, and say nothing of them', async () => {
    const prefix = freshPrefix();
    await seed(prefix, '10.0.0.9');
    const { env } = configHome(undefined);
    const r = await runCli(['--endpoints', etcd.endpoints, '--prefix', prefix, 'discover', 'web', '-o', 'addr'], env);
    expect(r.code, said(r)).toBe(0);
    expect(r.stdout).toBe('10.0.0.9:80\n');
    expect(r.stderr).toBe('');
  });

  it('context list marks the context in effect with a *', async () => {
    const { env } = configHome({ 'current-context': 'dev', contexts: { dev: { endpoints: [etcd.endpoints] }, prod: { endpoints: [REFUSED], prefix: '/p/', user: 'svc' } } });
    const r = await runCli(['context', 'list'], env);
    expect(r.code, said(r)).toBe(0);
    expect(r.stdout.split('\n').map((line) => line.split(/\s+/).filter(Boolean))).toEqual([
      ['CURRENT', 'NAME', 'ENDPOINTS', 'PREFIX', 'USER'],
      ['*', 'dev', etcd.endpoints, '-', '-'],
      ['prod', REFUSED, '/p/', 'svc'],
      [],
    ]);
  });

  it('context list -o json: each context, current marked, a password only said to be there', async () => {
    const { env, dir } = configHome({
      'current-context': 'dev',
      contexts: { dev: { endpoints: [etcd.endpoints] }, prod: { endpoints: [REFUSED], cacert: 'ca.crt', user: 'svc', password: 'swordfish' } },
    });
    const r = await runCli(['context', 'list', '-o', 'json'], env);
    expect(r.code, said(r)).toBe(0);
    expect(r.stdout).not.toContain('swordfish');
    expect(JSON.parse(r.stdout)).toEqual([
      { name: 'dev', current: true, endpoints: [etcd.endpoints], password: false },
      { name: 'prod', current: false, endpoints: [REFUSED], cacert: join(dir, 'ca.crt'), user: 'svc', password: true },
    ]);
  });

  it('context show says where each setting comes from: flag, environment, context or default', async () => {
    const { env } = configHome({ 'current-context': 'dev', contexts: { dev: { endpoints: [REFUSED], prefix: '/dev/', timeout: '2s' } } });
    const r = await runCli(['--prefix', '/flag/', 'context', 'show', '-o', 'json'], { ...env, SVCREG_TIMEOUT: '3s' });
    expect(r.code, said(r)).toBe(0);
    const { settings } = JSON.parse(r.stdout);
    expect(settings.context).toEqual({ value: 'dev', source: 'config', name: 'current-context' });
    expect(settings.endpoints).toEqual({ value: [REFUSED], source: 'context', name: 'endpoints' });
    expect(settings.prefix).toEqual({ value: '/flag/', source: 'flag', name: '--prefix' });
    expect(settings.timeout).toEqual({ value: '3s', source: 'env', name: 'SVCREG_TIMEOUT' });
    expect(settings.cacert).toEqual({ value: null, source: 'default' });
  });

  it('context show prints a password as (set), never its text', async () => {
    const { env } = configHome({ contexts: { prod: { endpoints: [REFUSED], user: 'svc', password: 'swordfish' } } });
    const r = await runCli(['context', 'show', 'prod'], env);
    expect(r.code, said(r)).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('swordfish');
    expect(r.stdout).toMatch(/^password\s+\(set\)\s+context prod$/m);
  });

  it('context commands read no password and talk to no etcd', async () => {
    // A user with no password anywhere: any command that authenticates would exit 2 off a terminal.
    const { env } = configHome({ 'current-context': 'prod', contexts: { prod: { endpoints: [REFUSED], user: 'svc' } } });
    const runs = [await runCli(['context', 'list'], env), await runCli(['context', 'show'], env)];
    expect(runs.map((r) => r.code), runs.map(said).join('\n')).toEqual([0, 0]);
    expect((await runCli(['list'], env)).stderr).toMatch(/no password for user svc/);
  });

  it('context use rewrites current-context atomically: a new file renamed in, its mode kept, the rest unchanged', async () => {
    const prefix = freshPrefix();
    await seed(prefix, '10.0.1.1');
    const document = { 'current-context': 'dead', contexts: { dead: { endpoints: [REFUSED] }, live: { endpoints: [etcd.endpoints], prefix } } };
    const { env, file, dir } = configHome(document, 0o640);
    const before = statSync(file);
    const r = await runCli(['context', 'use', 'live'], env);
    expect(r.code, said(r)).toBe(0);
    expect(r.stderr).toContain('switched to context "live"');
    const after = statSync(file);
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['config.json']);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ ...document, 'current-context': 'live' });
    const found = await runCli(['discover', 'web', '-o', 'addr'], env);
    expect(found.stdout, said(found)).toBe('10.0.1.1:80\n');
  });

  it('context use of a context the file does not have exits 2 and leaves the file as it was', async () => {
    const { env, file } = configHome({ 'current-context': 'dev', contexts: { dev: {} } });
    const [text, ino] = [readFileSync(file, 'utf8'), statSync(file).ino];
    const r = await runCli(['context', 'use', 'prod'], env);
    expect(r.code, said(r)).toBe(2);
    expect(r.stderr).toMatch(/context "prod" is not a context of .*; its contexts: dev/);
    expect([readFileSync(file, 'utf8'), statSync(file).ino]).toEqual([text, ino]);
  });
});

describe('contexts against an etcd with auth enabled', () => {
  const USER = 'svc';
  const PASSWORD = 'correct horse';
  let etcd: EtcdCluster;
  let root: Etcd3;

  beforeAll(async () => {
    etcd = await startEtcd();
    root = await enableAuth(etcd.endpoints, USER, PASSWORD);
  });
  afterAll(async () => {
    root?.close();
    await etcd?.stop();
  });

  const withPassword = (password: string) => ({ 'current-context': 'auth', contexts: { auth: { endpoints: [etcd.endpoints], user: USER, password } } });

  it('a password in clear in a file others may read (0644) is refused with exit 2 and a hint', async () => {
    const { env, file } = configHome(withPassword(PASSWORD), 0o644);
    const r = await runCli(['list'], env);
    expect(r.code, said(r)).toBe(2);
    expect(r.stderr).toBe(
      `svcreg: error: ${file} holds the password of context auth in clear, and other users may read it (mode 0644); chmod 600 ${file}, or give the context a password-file\n`,
    );
  });

  it('a password in clear in a file of mode 0600 authenticates', async () => {
    await root.put('/services/web/w1').value(JSON.stringify({ service_id: 'w1', service_name: 'web', address: 'h', port: 1, registered_at: 1 }));
    const { env } = configHome(withPassword(PASSWORD), 0o600);
    const r = await runCli(['list', '-o', 'json'], env);
    expect(r.code, said(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ service: 'web', instances: 1, healthy: 1, malformed: 0 }]);
  });

  it("the context's password is the one sent: a wrong one exits 7", async () => {
    const { env } = configHome(withPassword('wrong horse'), 0o600);
    const r = await runCli(['list'], env);
    expect(r.code, said(r)).toBe(7);
  });

  it("a password-file in the context, relative to the config file's directory, authenticates", async () => {
    const { env, dir } = configHome({ 'current-context': 'auth', contexts: { auth: { endpoints: [etcd.endpoints], user: USER, 'password-file': 'auth.password' } } });
    writeFileSync(join(dir, 'auth.password'), `${PASSWORD}\n`, { mode: 0o600 });
    const r = await runCli(['list'], env);
    expect(r.code, said(r)).toBe(0);
    expect(r.stderr).toBe('');
  });

  it("a context's password-file others may read is used, with a warning", async () => {
    const { env, dir } = configHome({ 'current-context': 'auth', contexts: { auth: { endpoints: [etcd.endpoints], user: USER, 'password-file': 'auth.password' } } });
    writeFileSync(join(dir, 'auth.password'), `${PASSWORD}\n`);
    chmodSync(join(dir, 'auth.password'), 0o644);
    const r = await runCli(['list'], env);
    expect(r.code, said(r)).toBe(0);
    expect(r.stderr).toContain(`warning: password-file of context auth ${join(dir, 'auth.password')} is open to other users (mode 0644); chmod 600 it`);
  });

  it("SVCREG_PASSWORD wins over the context's password", async () => {
    const { env } = configHome(withPassword('wrong horse'), 0o600);
    const r = await runCli(['list'], { ...env, SVCREG_PASSWORD: PASSWORD });
    expect(r.code, said(r)).toBe(0);
  });
});

describe('a TLS context', () => {
  let certs: Certs;
  let etcd: EtcdCluster;

  beforeAll(async () => {
    certs = makeCerts();
    etcd = await startEtcd({ tls: certs });
  });
  afterAll(async () => {
    await etcd?.stop();
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
  });

  it("reaches a TLS etcd with cacert, cert and key relative to the config file's directory", async () => {
    const { env, dir } = configHome(undefined);
    const tls = { cacert: relative(dir, certs.caFile), cert: relative(dir, certs.clientCertFile), key: relative(dir, certs.clientKeyFile) };
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ 'current-context': 'secure', contexts: { secure: { endpoints: [etcd.endpoints], ...tls } } }));
    const reg = startCli(['register', 'secure', '--id', 's1', '--address', '127.0.0.1', '--port', '443'], env);
    try {
      await reg.waitFor(/registered/);
      const found = await runCli(['discover', 'secure', '-o', 'addr'], env);
      expect(found.stdout, said(found)).toBe('127.0.0.1:443\n');
    } finally {
      await reg.stop();
    }
  });
});
