/**
 * From what was typed and the environment to the context a command runs in: global
 * options resolved (flags win over the environment), credentials read, the registry opened.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import type { CommandContext, Signal } from '../commands/context.js';
import { processIo, warn, type Io } from '../output/io.js';
import { parseDuration, splitList } from '../commands/options.js';
import { parseOutput, type OutputFormat } from '../output/format.js';
// Leaf modules of the library, not index.ts: `--help` must not load the registry.
import { DEFAULT_ENDPOINT, DEFAULT_TIMEOUT_MS } from '../etcd/endpoints.js';
import { UsageError } from '../registry/errors.js';
import { DEFAULT_PREFIX } from '../registry/keys.js';
import type { Registry } from '../index.js';

interface GlobalOptions {
  endpoints?: string;
  prefix?: string;
  timeout?: string;
  output?: string;
  cacert?: string;
  cert?: string;
  key?: string;
  user?: string;
  passwordFile?: string;
  color: boolean;
  debug?: boolean;
}

/** What main.ts gives the CLI: the arguments and process-level hooks. */
export interface Process {
  /** The arguments the program is parsed from, without node and the script. */
  readonly argv: readonly string[];
  onSignal(handler: (signal: Signal) => void): () => void;
  onStdoutClosed(handler: () => void): void;
  /** Called with every registry the CLI opens, so main can close it before exiting. */
  opened(registry: Registry): void;
}

/** The context a command runs in: global options and environment resolved, credentials read, the registry opened. */
export async function commandContext(cmd: Command, proc: Process): Promise<CommandContext> {
  const g = cmd.optsWithGlobals() as GlobalOptions;
  const io = processIo(g.color);
  // A bad value from the environment is named as such: nothing typed on the command line is wrong.
  const fromEnv = (option: string) => cmd.getOptionValueSourceWithGlobals(option) === 'env';
  const named = (option: string, flag: string) => (fromEnv(option) ? `SVCREG_${flag.slice(2).toUpperCase().replace(/-/g, '_')}` : flag);
  const endpoints = splitList(g.endpoints ?? process.env.ETCDCTL_ENDPOINTS ?? DEFAULT_ENDPOINT);
  const timeoutMs = g.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(g.timeout, named('timeout', '--timeout'));
  let auth: { username: string; password: string } | undefined;
  // Read once and dropped from the environment, so a `register -- command` child never inherits it.
  const envPassword = process.env.SVCREG_PASSWORD;
  delete process.env.SVCREG_PASSWORD;
  // A SVCREG_PASSWORD_FILE left in the environment is harmless without a user; the flag is not.
  if (g.user === undefined && cmd.getOptionValueSourceWithGlobals('passwordFile') === 'cli') throw new UsageError('--password-file needs --user');
  if (g.user !== undefined) {
    if (g.user.includes(':')) throw new UsageError(`${named('user', '--user')} takes a user name only`, 'pass the password in SVCREG_PASSWORD or --password-file, or type it at the prompt');
    let password = g.passwordFile === undefined ? envPassword : readPasswordFile(g.passwordFile, named('passwordFile', '--password-file'), io);
    if (password === undefined) {
      if (!io.stdinIsTTY) throw new UsageError(`no password for user ${g.user}`, 'set SVCREG_PASSWORD or pass --password-file');
      const { askPassword } = await import('../output/prompt.js');
      password = await askPassword(io, `Password for ${g.user}: `);
    }
    auth = { username: g.user, password };
  }
  // Loaded here, not at the top: `--help` and `--version` need none of the registry.
  const { Registry } = await import('../index.js');
  const registry = new Registry({
    endpoints,
    prefix: g.prefix ?? DEFAULT_PREFIX,
    timeoutMs,
    tls: { cacert: g.cacert, cert: g.cert, key: g.key },
    auth,
  });
  proc.opened(registry);
  const format = (allowed: readonly OutputFormat[]) => {
    if (fromEnv('output') && !allowed.includes(g.output as OutputFormat)) {
      throw new UsageError(`invalid SVCREG_OUTPUT ${JSON.stringify(g.output)} for this command`, `unset it, or pass -o with one of: ${allowed.join(', ')}`);
    }
    return parseOutput(g.output, allowed);
  };
  return { io, registry, format, onSignal: proc.onSignal, onStdoutClosed: proc.onStdoutClosed };
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
