/**
 * From what was typed, the environment and the config file to the context a command runs
 * in: each setting resolved (flags, then the environment, then the selected context, then
 * the defaults), credentials read, the registry opened.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import type { CommandContext, Signal } from '../commands/context.js';
import type { Contexts, Settings } from '../commands/settings.js';
import { processIo, warn, type Io } from '../output/io.js';
import { parseDuration } from '../commands/options.js';
import { parseOutput, type OutputFormat } from '../output/format.js';
// Leaf modules of the library, not index.ts: `--help` must not load the registry.
import { UsageError } from '../registry/errors.js';
import type { Registry } from '../index.js';
import { configPath, contextPath, openToOthers, readConfig, setCurrentContext, type ConfigFile } from './config.js';
import { defaultCaWith } from './extra-ca.js';
import { contextEntry, resolveSettings, selectContext, type Given, type GlobalName } from './settings.js';

interface GlobalOptions {
  output?: string;
  color: boolean;
  debug?: boolean;
}

/** What main.ts gives the CLI: the arguments and process-level hooks. */
export interface Process {
  /** The arguments the program is parsed from, without node and the script. */
  readonly argv: readonly string[];
  /** NODE_EXTRA_CA_CERTS, when bin/svcreg.js started Node without it (see extra-ca.ts). */
  readonly unloadedExtraCaCerts?: string;
  onSignal(handler: (signal: Signal) => void): () => void;
  onStdoutClosed(handler: () => void): void;
  /** Called with every registry the CLI opens, so main can close it before exiting. */
  opened(registry: Registry): void;
}

/** Commands that only read or write the config file (`svcreg context ...`). */
const configOnly = new WeakSet<Command>();

/** Marks `command` as one that reads no credentials and opens no registry (its context has none). */
export function readsConfigOnly(command: Command): Command {
  configOnly.add(command);
  return command;
}

/** For shell completion, which must answer at once and never stop to ask. */
export interface ContextLimits {
  /** Without a password, fail as off a terminal instead of prompting. */
  noPrompt?: boolean;
  /** A deadline of each request shorter than --timeout. */
  maxTimeoutMs?: number;
}

/** The context a command runs in: settings resolved, credentials read, the registry opened. */
export async function commandContext(cmd: Command, proc: Process, limits: ContextLimits = {}): Promise<CommandContext> {
  const g = cmd.optsWithGlobals() as GlobalOptions;
  const io = processIo(g.color);
  const format = (allowed: readonly OutputFormat[]) => parseOutput(g.output, allowed, cmd.getOptionValueSourceWithGlobals('output') === 'env');
  const base = { io, format, onSignal: proc.onSignal, onStdoutClosed: proc.onStdoutClosed };
  if (configOnly.has(cmd)) {
    return {
      ...base,
      get registry(): Registry {
        throw new Error(`${cmd.name()} reads the config file only: it opens no registry`);
      },
    };
  }
  const given = givenOptions(cmd);
  const config = readConfig(process.env);
  const selected = selectContext(given, config);
  const settings = resolveSettings(given, process.env, selected, contextEntry(config, config?.path ?? configPath(process.env).path, selected));
  // Read once and dropped from the environment, so a `register -- command` child never inherits it.
  delete process.env.SVCREG_PASSWORD;
  if (config) checkClearPasswords(io, config, settings);
  const timeoutMs = Math.min(parseDuration(settings.timeout.value, settings.timeout.name ?? 'timeout'), limits.maxTimeoutMs ?? Infinity);
  const auth = await credentials(given, settings, io, limits.noPrompt);
  // Loaded here, not at the top: `--help` and `--version` need none of the registry.
  const { Registry } = await import('../index.js');
  const registry = new Registry({
    endpoints: settings.endpoints.value,
    prefix: settings.prefix.value,
    timeoutMs,
    tls: { cacert: settings.cacert.value ?? (await extraCa(settings.endpoints.value, proc.unloadedExtraCaCerts, io)), cert: settings.cert.value, key: settings.key.value },
    auth,
  });
  proc.opened(registry);
  return { ...base, registry };
}

/** The config file for `svcreg context ...`, with the global options `program` was given. */
export function openContexts(program: Command, io: Io): Contexts {
  const given = givenOptions(program);
  const config = readConfig(process.env);
  const file = config?.path ?? configPath(process.env).path;
  const selected = selectContext(given, config);
  if (config) checkClearPasswords(io, config);
  return {
    file,
    exists: config !== undefined,
    selected,
    list: () => [...(config?.contexts ?? [])].map(([name, { password, ...entry }]) => ({ name, ...entry, password: password !== undefined })),
    resolve(name) {
      const which = name === undefined ? selected : { value: name, source: 'argument' as const, name: 'NAME' };
      return resolveSettings(given, process.env, which, contextEntry(config, file, which));
    },
    use(name) {
      contextEntry(config, file, { value: name, source: 'argument' });
      setCurrentContext(config!, name);
    },
  };
}

const CONTEXT_OPTIONS: GlobalName[] = ['context', 'endpoints', 'prefix', 'timeout', 'cacert', 'cert', 'key', 'user', 'passwordFile'];

/** The global options commander found on the command line or in their variables. */
function givenOptions(cmd: Command): Given {
  const values = cmd.optsWithGlobals() as Record<string, string | undefined>;
  const given: Given = {};
  for (const option of CONTEXT_OPTIONS) {
    const source = cmd.getOptionValueSourceWithGlobals(option);
    const value = values[option];
    if (value !== undefined && (source === 'cli' || source === 'env')) given[option] = { value, source: source === 'cli' ? 'flag' : 'env' };
  }
  return given;
}

/**
 * A password in clear in a file other users may read: refused when it is the one to be
 * sent (settings given), warned of otherwise, so the file gets fixed either way.
 */
function checkClearPasswords(io: Io, config: ConfigFile, settings?: Settings): void {
  const holders = [...config.contexts].filter(([, entry]) => entry.password !== undefined).map(([name]) => contextPath(name));
  if (holders.length === 0 || !openToOthers(config.mode)) return;
  const mode = `mode 0${config.mode.toString(8)}`;
  if (settings?.password.source === 'context' && settings.password.name === 'password') {
    throw new UsageError(
      `${config.path} holds the password of context ${settings.context.value} in clear, and other users may read it (${mode})`,
      `chmod 600 ${config.path}, or give the context a password-file`,
    );
  }
  warn(io, `${config.path} holds passwords in clear (${holders.join(', ')}), and other users may read it (${mode}); chmod 600 it`);
}

/** The user and password to authenticate with, if a user is set: the password from the settings, else asked on a terminal. */
async function credentials(given: Given, settings: Settings, io: Io, noPrompt = false): Promise<{ username: string; password: string } | undefined> {
  const user = settings.user;
  if (user.value === undefined) {
    // A SVCREG_PASSWORD_FILE left in the environment is harmless without a user; the flag is not.
    if (given.passwordFile?.source === 'flag') throw new UsageError('--password-file needs --user');
    return undefined;
  }
  // The context's user was checked when the file was read.
  if (user.value.includes(':')) throw new UsageError(`${user.name} takes a user name only`, 'pass the password in SVCREG_PASSWORD or --password-file, or type it at the prompt');
  const chosen = settings.password;
  let password: string | undefined;
  if (chosen.value && 'text' in chosen.value) password = chosen.value.text;
  else if (chosen.value) password = readPasswordFile(chosen.value.file, chosen.source === 'context' ? `password-file of context ${settings.context.value}` : chosen.name!, io);
  if (password === undefined) {
    if (!io.stdinIsTTY || noPrompt) throw new UsageError(`no password for user ${user.value}`, 'set SVCREG_PASSWORD, pass --password-file, or give the context a password-file');
    const { askPassword } = await import('../output/prompt.js');
    password = await askPassword(io, `Password for ${user.value}: `);
  }
  return { username: user.value, password };
}

/**
 * The file's first line: files written by `echo` end with a newline that is not part
 * of the password. A file others can read is used (mounted secrets often are 0644), with a warning.
 */
function readPasswordFile(path: string, name: string, io: Io): string {
  let text: string;
  let mode: number;
  try {
    text = readFileSync(path, 'utf8');
    mode = statSync(path).mode & 0o777;
  } catch (err) {
    throw new UsageError(`cannot read ${name} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '' || /[\r\n]/.test(password)) throw new UsageError(`${name} ${path} must hold the password on one line`);
  if (mode & 0o077) warn(io, `${name} ${path} is open to other users (mode 0${mode.toString(8)}); chmod 600 it`);
  return password;
}

/** Without --cacert, what Node would trust for https:// endpoints had it loaded NODE_EXTRA_CA_CERTS itself. */
async function extraCa(endpoints: string[], unloaded: string | undefined, io: Io): Promise<Buffer | undefined> {
  if (unloaded === undefined || !endpoints.some((e) => /^https:\/\//i.test(e))) return undefined;
  return defaultCaWith(unloaded, io);
}
