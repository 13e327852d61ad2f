/**
 * The config file of named contexts, as kubectl's kubeconfig is for clusters: where it
 * is, and what it may hold. It is checked strictly, every context of it: a misspelt key
 * must not quietly send requests to the default endpoint.
 */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { replaceFile } from '../output/atomic-write.js';
import type { ContextEntry } from '../commands/settings.js';
import { parseDuration } from '../commands/options.js';
// Leaf modules of the library, not index.ts: the file is read before the registry loads.
import { parseEndpoints } from '../etcd/endpoints.js';
import { UsageError } from '../registry/errors.js';
import { validatePrefix } from '../registry/keys.js';

export interface ConfigFile {
  path: string;
  /** Permission bits: a password in clear is used only when no one else may read the file. */
  mode: number;
  currentContext?: string;
  contexts: Map<string, ContextEntry>;
  /** The document as parsed, so a rewrite changes nothing but what it means to. */
  document: Record<string, unknown>;
}

/** SVCREG_CONFIG, else $XDG_CONFIG_HOME/svcreg/config.json, else ~/.config/svcreg/config.json. */
export function configPath(env: NodeJS.ProcessEnv): { path: string; named: boolean } {
  if (env.SVCREG_CONFIG) return { path: resolve(env.SVCREG_CONFIG), named: true };
  // The XDG spec says a relative XDG_CONFIG_HOME is to be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  return { path: join(xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.config'), 'svcreg', 'config.json'), named: false };
}

/** The config file, checked; undefined when there is none at the default place. */
export function readConfig(env: NodeJS.ProcessEnv): ConfigFile | undefined {
  const { path, named } = configPath(env);
  let text: string;
  let mode: number;
  try {
    const fd = openSync(path, 'r');
    try {
      mode = fstatSync(fd).mode & 0o777;
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !named) return undefined;
    throw new UsageError(`cannot read the config file ${path}${named ? ' (SVCREG_CONFIG)' : ''}: ${code ?? 'unreadable'}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  return checked(path, mode, document);
}

/** Every key a context may hold: the global flags' names. */
const CONTEXT_KEYS = ['endpoints', 'prefix', 'timeout', 'cacert', 'cert', 'key', 'user', 'password-file', 'password'] as const;
const PATH_KEYS = new Set(['cacert', 'cert', 'key', 'password-file']);

function checked(path: string, mode: number, document: unknown): ConfigFile {
  const bad = (where: string, problem: string, hint?: string) => new UsageError(`${path}: ${where}: ${problem}`, hint);
  if (!isObject(document)) throw bad('the document', `must be an object, not ${kind(document)}`, 'see svcreg context --help for the format');
  for (const key of Object.keys(document)) {
    if (key !== 'current-context' && key !== 'contexts') throw bad(key, 'unknown key', 'the file holds "current-context" and "contexts"');
  }
  const current = document['current-context'];
  if (current !== undefined && (typeof current !== 'string' || current === '')) throw bad('current-context', `must be a context's name, not ${kind(current)}`);
  const contexts = new Map<string, ContextEntry>();
  const given = 'contexts' in document ? document.contexts : {};
  if (!isObject(given)) throw bad('contexts', `must be an object of named contexts, not ${kind(given)}`);
  for (const [name, value] of Object.entries(given)) {
    const at = contextPath(name);
    if (name === '') throw bad(at, 'a context needs a name');
    if (!isObject(value)) throw bad(at, `must be an object, not ${kind(value)}`);
    const entry: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (!(CONTEXT_KEYS as readonly string[]).includes(key)) throw bad(`${at}.${key}`, 'unknown key', `a context may hold: ${CONTEXT_KEYS.join(', ')}`);
      try {
        entry[key] = checkedValue(key, v, dirname(path));
      } catch (err) {
        throw err instanceof UsageError ? bad(`${at}.${key}`, err.message, err.hint) : err;
      }
    }
    if (entry.password !== undefined && entry['password-file'] !== undefined) throw bad(at, 'holds both password and password-file', 'keep one');
    if ((entry.password ?? entry['password-file']) !== undefined && entry.user === undefined) throw bad(at, 'a password needs a user', `add "user" to ${at}`);
    contexts.set(name, entry);
  }
  return { path, mode, currentContext: current, contexts, document };
}

/** One value of a context, checked as the flag of the same name would be; the caller says where it is. */
function checkedValue(key: string, value: unknown, dir: string): unknown {
  if (key === 'endpoints') {
    if (!Array.isArray(value) || value.length === 0 || !value.every((e) => typeof e === 'string')) {
      throw new UsageError(`must be a non-empty list of endpoint URLs${Array.isArray(value) ? '' : `, not ${kind(value)}`}`, 'e.g. ["https://10.0.0.1:2379"]');
    }
    parseEndpoints(value);
    return value;
  }
  if (typeof value !== 'string' || value === '') throw new UsageError(`must be a non-empty string, not ${kind(value)}`);
  if (key === 'prefix') validatePrefix(value);
  if (key === 'timeout') parseDuration(value, 'timeout');
  if (key === 'user' && value.includes(':')) throw new UsageError('takes a user name only', 'put the password in "password-file" (or "password", in a file of mode 0600)');
  return PATH_KEYS.has(key) ? resolve(dir, value) : value;
}

/** Makes `name` the current-context: the file rewritten atomically, its mode kept, the rest of it unchanged. */
export function setCurrentContext(config: ConfigFile, name: string): void {
  // current-context first, where a person reading the file looks for it.
  const document = Object.assign({ 'current-context': name }, config.document, { 'current-context': name });
  replaceFile(config.path, `${JSON.stringify(document, null, 2)}\n`);
}

/** `contexts.prod`, or `contexts["eu.west"]` for a name that would not read as one segment. */
export function contextPath(name: string): string {
  return /^[\w-]+$/.test(name) ? `contexts.${name}` : `contexts[${JSON.stringify(name)}]`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kind(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  return `a ${typeof value}`;
}

/** Whether users other than the owner may read the file (any group or other bit). */
export function openToOthers(mode: number): boolean {
  return (mode & 0o077) !== 0;
}
