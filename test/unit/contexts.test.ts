// The config file's checks and the resolution of each setting (flag > environment >
// context > default), on files in a temporary directory: never the user's own.
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replaceFile } from '../../src/output/atomic-write.js';
import { configPath, readConfig } from '../../src/cli/config.js';
import { contextEntry, resolveSettings, selectContext, type Given } from '../../src/cli/settings.js';
import type { ContextEntry } from '../../src/commands/settings.js';
import { UsageError } from '../../src/registry/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'svcreg-config-unit-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `text` as the config file and returns the environment that names it. */
function configFile(text: string): NodeJS.ProcessEnv {
  const file = join(dir, 'config.json');
  writeFileSync(file, text, { mode: 0o600 });
  return { SVCREG_CONFIG: file };
}

const read = (document: unknown) => readConfig(configFile(JSON.stringify(document)))!;

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error('no UsageError thrown');
}

describe('where the config file is', () => {
  it('is $XDG_CONFIG_HOME/svcreg/config.json when XDG_CONFIG_HOME is set', () => {
    expect(configPath({ XDG_CONFIG_HOME: '/x/conf', HOME: '/home/u' }).path).toBe('/x/conf/svcreg/config.json');
  });

  it('is ~/.config/svcreg/config.json without XDG_CONFIG_HOME, or with a relative one (the XDG spec ignores it)', () => {
    expect(configPath({ HOME: dir }).path).toBe(join(dir, '.config/svcreg/config.json'));
    expect(configPath({ HOME: dir, XDG_CONFIG_HOME: 'relative' }).path).toBe(join(dir, '.config/svcreg/config.json'));
  });

  it('is the file SVCREG_CONFIG names, whatever XDG_CONFIG_HOME says', () => {
    expect(configPath({ SVCREG_CONFIG: '/etc/svcreg.json', XDG_CONFIG_HOME: '/x' })).toEqual({ path: '/etc/svcreg.json', named: true });
  });

  it('no file at the default place is no config, not an error', () => {
    expect(readConfig({ XDG_CONFIG_HOME: dir })).toBeUndefined();
  });

  it('a file SVCREG_CONFIG names that does not exist is a usage error naming it', () => {
    const missing = join(dir, 'nope.json');
    expect(usageError(() => readConfig({ SVCREG_CONFIG: missing })).message).toBe(`cannot read the config file ${missing} (SVCREG_CONFIG): ENOENT`);
  });
});

describe('the file is checked strictly, naming the file and the key', () => {
  const file = () => join(dir, 'config.json');

  it.each([
    ['a misspelt key of a context', { contexts: { prod: { endpoint: ['http://127.0.0.1:2379'] } } }, 'contexts.prod.endpoint: unknown key'],
    ['an unknown top-level key', { 'current_context': 'prod' }, 'current_context: unknown key'],
    ['endpoints as a string', { contexts: { prod: { endpoints: 'http://127.0.0.1:2379' } } }, 'contexts.prod.endpoints: must be a non-empty list of endpoint URLs, not a string'],
    ['an empty endpoint list', { contexts: { prod: { endpoints: [] } } }, 'contexts.prod.endpoints: must be a non-empty list of endpoint URLs'],
    ['an endpoint that is no URL', { contexts: { prod: { endpoints: ['ftp://127.0.0.1'] } } }, 'contexts.prod.endpoints: invalid endpoint "ftp://127.0.0.1"'],
    ['a prefix without its slashes', { contexts: { prod: { prefix: 'services' } } }, 'contexts.prod.prefix: invalid prefix "services"'],
    ['a timeout as a number', { contexts: { prod: { timeout: 5 } } }, 'contexts.prod.timeout: must be a non-empty string, not a number'],
    ['a timeout that is no duration', { contexts: { prod: { timeout: '5 sec' } } }, 'contexts.prod.timeout: invalid duration'],
    ['a user with a password in it', { contexts: { prod: { user: 'svc:secret' } } }, 'contexts.prod.user: takes a user name only'],
    ['a password without a user', { contexts: { prod: { 'password-file': 'pw' } } }, 'contexts.prod: a password needs a user'],
    ['both password and password-file', { contexts: { prod: { user: 'u', password: 'p', 'password-file': 'pw' } } }, 'contexts.prod: holds both password and password-file'],
    ['a context that is not an object', { contexts: { prod: ['http://127.0.0.1:2379'] } }, 'contexts.prod: must be an object, not a list'],
    ['contexts as a list', { contexts: [] }, 'contexts: must be an object of named contexts, not a list'],
    ['an odd context name, quoted', { contexts: { 'eu.west': { bogus: 1 } } }, 'contexts["eu.west"].bogus: unknown key'],
  ])('%s', (_, document, problem) => {
    expect(usageError(() => read(document)).message).toContain(`${file()}: ${problem}`);
  });

  it('text that is not JSON names the file', () => {
    expect(usageError(() => readConfig(configFile('{"contexts": {'))).message).toMatch(new RegExp(`^${file()}: not valid JSON: `));
  });

  it('checks every context, not only the one in use', () => {
    const document = { 'current-context': 'good', contexts: { good: {}, bad: { prefix: 'x' } } };
    expect(usageError(() => read(document)).message).toContain('contexts.bad.prefix');
  });
});

describe('what the file holds', () => {
  it('relative TLS and password-file paths are relative to the file, absolute ones stay', () => {
    const config = read({ contexts: { prod: { cacert: 'tls/ca.crt', cert: '/etc/c.crt', user: 'svc', 'password-file': '../pw' } } });
    expect(config.contexts.get('prod')).toEqual({ cacert: join(dir, 'tls/ca.crt'), cert: '/etc/c.crt', user: 'svc', 'password-file': join(dir, '../pw') });
  });

  it('records the mode of the file, for the password rule', () => {
    const env = configFile('{}');
    chmodSync(env.SVCREG_CONFIG!, 0o644);
    expect(readConfig(env)!.mode).toBe(0o644);
  });
});

describe('which context is in effect', () => {
  const config = () => read({ 'current-context': 'a', contexts: { a: {}, b: {}, c: {} } });

  it('the current-context of the file, when nothing else picks one', () => {
    expect(selectContext({}, config())).toEqual({ value: 'a', source: 'config', name: 'current-context' });
  });

  it('SVCREG_CONTEXT over the current-context', () => {
    expect(selectContext({ context: { value: 'b', source: 'env' } }, config())).toEqual({ value: 'b', source: 'env', name: 'SVCREG_CONTEXT' });
  });

  it('none without a file or a name', () => {
    expect(selectContext({}, undefined).value).toBeUndefined();
  });

  it('a name the file does not hold is a usage error listing those it does', () => {
    const err = usageError(() => contextEntry(config(), 'file', { value: 'zz', source: 'flag', name: '--context' }));
    expect(err.message).toBe('--context "zz" is not a context of file');
    expect(err.hint).toBe('its contexts: a, b, c');
  });

  it('a current-context naming no context points at `svcreg context use`', () => {
    const broken = read({ 'current-context': 'gone', contexts: { a: {} } });
    expect(usageError(() => contextEntry(broken, 'file', selectContext({}, broken))).hint).toBe('svcreg context use NAME picks one of: a');
  });

  it('a name without any config file says there is none', () => {
    expect(usageError(() => contextEntry(undefined, '/nowhere/config.json', { value: 'prod', source: 'env', name: 'SVCREG_CONTEXT' })).message).toBe(
      'SVCREG_CONTEXT "prod": there is no config file /nowhere/config.json',
    );
  });
});

describe('each setting: flag, else environment, else context, else default', () => {
  const entry = { endpoints: ['http://127.0.0.1:3000'], prefix: '/ctx/', timeout: '9s', cacert: '/ctx/ca.crt', user: 'svc', password: 'from-file' };
  const selected = { value: 'prod', source: 'config' as const, name: 'current-context' };
  const resolve = (given: Given, env: NodeJS.ProcessEnv = {}, e: ContextEntry | undefined = entry) => resolveSettings(given, env, selected, e);

  it('the context stands in for every option not given', () => {
    const s = resolve({});
    expect([s.endpoints, s.prefix, s.timeout, s.cacert, s.user].map((x) => [x.value, x.source])).toEqual([
      [['http://127.0.0.1:3000'], 'context'],
      ['/ctx/', 'context'],
      ['9s', 'context'],
      ['/ctx/ca.crt', 'context'],
      ['svc', 'context'],
    ]);
  });

  it('a flag wins over the context', () => {
    expect(resolve({ prefix: { value: '/flag/', source: 'flag' } }).prefix).toEqual({ value: '/flag/', source: 'flag', name: '--prefix' });
  });

  it('an environment variable wins over the context', () => {
    expect(resolve({ endpoints: { value: 'http://127.0.0.1:1,http://127.0.0.1:2', source: 'env' } }).endpoints).toEqual({
      value: ['http://127.0.0.1:1', 'http://127.0.0.1:2'],
      source: 'env',
      name: 'SVCREG_ENDPOINTS',
    });
  });

  it('ETCDCTL_ENDPOINTS wins over the context, as it wins over the default', () => {
    expect(resolve({}, { ETCDCTL_ENDPOINTS: 'http://127.0.0.1:4' }).endpoints).toEqual({ value: ['http://127.0.0.1:4'], source: 'env', name: 'ETCDCTL_ENDPOINTS' });
  });

  it('without a context, the defaults', () => {
    const s = resolveSettings({}, {}, { value: undefined, source: 'default' }, undefined);
    expect([s.endpoints.value, s.prefix.value, s.timeout.value, s.cacert.value, s.user.value]).toEqual([['http://127.0.0.1:2379'], '/services/', '5s', undefined, undefined]);
    expect(new Set([s.endpoints, s.prefix, s.timeout, s.cacert, s.user, s.password].map((x) => x.source))).toEqual(new Set(['default']));
  });

  it("the context's password goes with the context's user", () => {
    expect(resolve({}).password).toEqual({ value: { text: 'from-file' }, source: 'context', name: 'password' });
  });

  it("another user (--user) does not get the context's password", () => {
    expect(resolve({ user: { value: 'other', source: 'flag' } }).password.value).toBeUndefined();
  });

  it("SVCREG_PASSWORD wins over the context's password, and --password-file over both", () => {
    expect(resolve({}, { SVCREG_PASSWORD: 'env' }).password).toEqual({ value: { text: 'env' }, source: 'env', name: 'SVCREG_PASSWORD' });
    expect(resolve({ passwordFile: { value: 'pw.txt', source: 'flag' } }, { SVCREG_PASSWORD: 'env' }).password).toEqual({
      value: { file: 'pw.txt' },
      source: 'flag',
      name: '--password-file',
    });
  });

  it('no password without a user, even with SVCREG_PASSWORD set', () => {
    const { user: _user, password: _password, ...anonymous } = entry;
    expect(resolve({}, { SVCREG_PASSWORD: 'env' }, anonymous).password.value).toBeUndefined();
  });
});

describe('replaceFile', () => {
  it('keeps the mode of the file it replaces, and leaves no temporary file behind', () => {
    const file = join(dir, 'f.json');
    writeFileSync(file, 'old');
    chmodSync(file, 0o640);
    replaceFile(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['f.json']);
  });

  it('replaces the target of a symlink, which stays a symlink', () => {
    mkdirSync(join(dir, 'dotfiles'));
    const target = join(dir, 'dotfiles', 'config.json');
    writeFileSync(target, 'old', { mode: 0o600 });
    symlinkSync(target, join(dir, 'link.json'));
    replaceFile(join(dir, 'link.json'), 'new');
    expect(lstatSync(join(dir, 'link.json')).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(readdirSync(join(dir, 'dotfiles'))).toEqual(['config.json']);
  });

  it('fails on a file that is not there, creating nothing', () => {
    expect(() => replaceFile(join(dir, 'absent.json'), 'x')).toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
