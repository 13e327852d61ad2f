/**
 * Which value of each connection setting a command runs with, and where it came from: a
 * flag, else its environment variable, else the selected context of the config file, else
 * the built-in default. Commands and `svcreg context show` go through this one resolution.
 */
import { splitList } from '../commands/options.js';
import type { ContextEntry, Password, Setting, Settings } from '../commands/settings.js';
import { formatDuration } from '../output/duration.js';
// Leaf modules of the library, not index.ts: `--help` must not load the registry.
import { DEFAULT_ENDPOINT, DEFAULT_TIMEOUT_MS } from '../etcd/endpoints.js';
import { UsageError } from '../registry/errors.js';
import { DEFAULT_PREFIX } from '../registry/keys.js';
import type { ConfigFile } from './config.js';

/** The global options a context can stand in for, and --context, which picks it: commander's names. */
export type GlobalName = 'context' | 'endpoints' | 'prefix' | 'timeout' | 'cacert' | 'cert' | 'key' | 'user' | 'passwordFile';

/** The global options commander found: each one's text, typed as a flag or read from its variable. */
export type Given = Partial<Record<GlobalName, { value: string; source: 'flag' | 'env' }>>;

export const flagOf = (option: GlobalName): string => `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
export const variableOf = (option: GlobalName): string => `SVCREG_${option.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

function given<T>(g: Given, option: GlobalName, parse: (text: string) => T): Setting<T> | undefined {
  const o = g[option];
  return o && { value: parse(o.value), source: o.source, name: o.source === 'flag' ? flagOf(option) : variableOf(option) };
}

function inContext<T>(key: keyof ContextEntry, value: T | undefined): Setting<T> | undefined {
  return value === undefined ? undefined : { value, source: 'context', name: key };
}

const byDefault = <T>(value: T): Setting<T> => ({ value, source: 'default' });
const text = (t: string) => t;

/** The context in effect: --context, else SVCREG_CONTEXT, else the file's current-context; none without them. */
export function selectContext(g: Given, config: ConfigFile | undefined): Setting<string | undefined> {
  if (g.context) return given(g, 'context', text)!;
  return config?.currentContext === undefined ? byDefault(undefined) : { value: config.currentContext, source: 'config', name: 'current-context' };
}

/** The context `selected` names, if it names one; a name the file does not hold is a usage error. */
export function contextEntry(config: ConfigFile | undefined, path: string, selected: Setting<string | undefined>): ContextEntry | undefined {
  const name = selected.value;
  if (name === undefined) return undefined;
  const entry = config?.contexts.get(name);
  if (entry) return entry;
  const label = `${selected.source === 'argument' ? 'context' : selected.name} ${JSON.stringify(name)}`;
  if (!config) throw new UsageError(`${label}: there is no config file ${path}`, 'write one (svcreg context --help shows the format), or name it in SVCREG_CONFIG');
  const names = [...config.contexts.keys()].join(', ') || 'none';
  const hint = selected.source === 'config' ? `svcreg context use NAME picks one of: ${names}` : `its contexts: ${names}`;
  throw new UsageError(`${label} is not a context of ${path}`, hint);
}

/**
 * Each setting from the strongest place that has it. `entry` is the selected context's;
 * ETCDCTL_ENDPOINTS and SVCREG_PASSWORD are read from `env` as they are not commander's.
 */
export function resolveSettings(g: Given, env: NodeJS.ProcessEnv, selected: Setting<string | undefined>, entry: ContextEntry | undefined): Settings {
  const etcdctl: Setting<string[]> | undefined = env.ETCDCTL_ENDPOINTS === undefined ? undefined : { value: splitList(env.ETCDCTL_ENDPOINTS), source: 'env', name: 'ETCDCTL_ENDPOINTS' };
  const optional = (option: 'cacert' | 'cert' | 'key' | 'user') => given(g, option, text) ?? inContext(option, entry?.[option]) ?? byDefault(undefined);
  const user = optional('user');
  return {
    context: selected,
    endpoints: given(g, 'endpoints', splitList) ?? etcdctl ?? inContext('endpoints', entry?.endpoints) ?? byDefault([DEFAULT_ENDPOINT]),
    prefix: given(g, 'prefix', text) ?? inContext('prefix', entry?.prefix) ?? byDefault(DEFAULT_PREFIX),
    timeout: given(g, 'timeout', text) ?? inContext('timeout', entry?.timeout) ?? byDefault(formatDuration(DEFAULT_TIMEOUT_MS)),
    cacert: optional('cacert'),
    cert: optional('cert'),
    key: optional('key'),
    user,
    password: user.value === undefined ? byDefault(undefined) : password(g, env, entry, user.value),
  };
}

/** --password-file (or SVCREG_PASSWORD_FILE), else SVCREG_PASSWORD, else the context's; none: ask. */
function password(g: Given, env: NodeJS.ProcessEnv, entry: ContextEntry | undefined, user: string): Setting<Password | undefined> {
  const file = given(g, 'passwordFile', (path): Password => ({ file: path }));
  if (file) return file;
  if (env.SVCREG_PASSWORD !== undefined) return { value: { text: env.SVCREG_PASSWORD }, source: 'env', name: 'SVCREG_PASSWORD' };
  // A context's password is its own user's: sent for another user (--user), it would only be refused.
  if (entry?.user === user) {
    const path = entry['password-file'];
    if (path !== undefined) return { value: { file: path }, source: 'context', name: 'password-file' };
    if (entry.password !== undefined) return { value: { text: entry.password }, source: 'context', name: 'password' };
  }
  return byDefault(undefined);
}
