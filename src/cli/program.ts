/**
 * commander wiring: flags and environment -> typed options for each command.
 * Command modules (and etcd3 behind them) load only when their command runs, so
 * `--help` and `--version` stay fast.
 */
import { readFileSync, statSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { CommandContext, Signal } from '../commands/context.js';
import { afterEndOfOptions } from './end-of-options.js';
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

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function context(cmd: Command, proc: Process): Promise<CommandContext> {
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

const collect = (value: string, previous: string[] = []) => [...previous, value];

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

/** Builds the program; `run` parses argv and resolves to the exit code. */
export function buildProgram(proc: Process, setResult: (code: Promise<number>) => void): Command {
  const program = new Command('svcreg')
    .description('A service registry on etcd: register, list, discover, watch and purge service instances.')
    .version(version, '-v, --version')
    .addOption(new Option('--endpoints <urls>', `etcd endpoints, comma-separated (default: ${DEFAULT_ENDPOINT}, or ETCDCTL_ENDPOINTS)`).env('SVCREG_ENDPOINTS'))
    .addOption(new Option('--prefix <prefix>', `key prefix (default: ${DEFAULT_PREFIX})`).env('SVCREG_PREFIX'))
    .addOption(new Option('--timeout <duration>', 'deadline of each request: 500ms, 5s, 1m (default: 5s)').env('SVCREG_TIMEOUT'))
    .addOption(
      new Option('-o, --output <format>', 'table | wide | json | ndjson | addr, where it fits (default: table)')
        .env('SVCREG_OUTPUT')
        // `-o=json`, as kubectl spells it, reaches commander's short-option parsing as "=json".
        .argParser((value: string) => value.replace(/^=/, '')),
    )
    .addOption(new Option('--cacert <file>', 'CA certificate for https:// endpoints').env('SVCREG_CACERT'))
    .addOption(new Option('--cert <file>', 'client certificate (TLS)').env('SVCREG_CERT'))
    .addOption(new Option('--key <file>', 'client key (TLS)').env('SVCREG_KEY'))
    .addOption(new Option('--user <name>', 'etcd user; the password comes from --password-file, SVCREG_PASSWORD or a prompt').env('SVCREG_USER'))
    .addOption(new Option('--password-file <file>', 'read the password of --user from this file (its first line)').env('SVCREG_PASSWORD_FILE'))
    .option('--no-color', 'no colour (also: NO_COLOR)')
    .option('--debug', 'print stack traces on errors')
    .showHelpAfterError('(run svcreg --help for usage)')
    // commander's own errors ("error: unknown option") look like ours.
    .configureOutput({ outputError: (text, write) => write(`svcreg: ${text}`) })
    // Throw instead of exiting, so main.ts maps usage errors to exit 2. Set before the
    // subcommands are added: commander copies these settings into each one on creation.
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 unexpected error, 2 invalid usage or input, 3 etcd unreachable or timed out,
4 nothing found / wait timed out, 5 already registered, 6 registration lost, 7 auth denied.

Examples:
  svcreg register web --port 8080 --tag v1 -- node server.js
  svcreg discover web -o addr --pick random
  svcreg list --instances -o json`,
    );

  const action = <A extends unknown[]>(load: (ctx: CommandContext, ...args: A) => Promise<number>) =>
    async function (this: Command, ...args: unknown[]) {
      setResult(context(this, proc).then((ctx) => load(ctx, ...(args.slice(0, -1) as A))));
    };

  const registerCommand = program
    .command('register')
    .description('register an instance and keep it alive until interrupted (or until the command after -- exits)')
    .argument('<service>', 'service name')
    .argument('[command...]', 'a command to run as a child, after --')
    .option('--id <id>', 'instance id (default: <service>-<hostname>-<pid>)')
    .option('--address <address>', "address to advertise (default: this host's first non-internal IPv4)")
    .option('--port <port>', 'port to advertise (required)')
    .option('--tag <tag>', 'a tag (repeatable)', collect)
    .option('--meta <key=value>', 'a metadata pair (repeatable)', collect)
    .option('--ttl <seconds>', 'lease TTL in seconds (default: 30)')
    .option('--replace', 'take over the id if another live registration holds it')
    .option('--on-lost <reregister|exit>', 'when the lease is lost: re-register as soon as etcd answers (default), or exit 6')
    .option('--check-http <url>', 'health check: GET passes on 2xx')
    .option('--check-tcp <host:port>', 'health check: a TCP connection passes')
    .option('--check-cmd <command>', 'health check: `sh -c command` exiting 0 passes')
    .option('--check-interval <duration>', 'time between checks (default: 10s)')
    .option('--check-timeout <duration>', 'deadline of each check (default: 2s)')
    .option('--check-failures <n>', 'failures in a row before a passing instance turns critical (default: 3)')
    .option('--drain <duration>', 'on SIGTERM/SIGINT: mark critical, wait this long, then stop (a second signal stops at once)')
    .option('--kill-timeout <duration>', 'with -- command: SIGKILL it if it has not exited this long after its stop signal (default: 10s)')
    .option('--pid <pid>', 'deregister once this process exits (e.g. --pid $$ in a shell script that backgrounds svcreg)')
    .addHelpText(
      'after',
      `
Prints one line (one JSON object with -o json) once the key is written, so a script can wait for it.
Revokes the lease on SIGINT/SIGTERM/SIGHUP, so the key disappears at once, and exits 0.
With -- command, runs it with inherited stdio and deregisters when it exits. A stop signal
revokes the lease at once, whatever the command does, and is passed on to it (after the
drain, with --drain); it is killed if still running --kill-timeout later. Exits with its code,
or 127 before registering anything when the command cannot be found. The command's environment
names its registration: SVCREG_SERVICE, SVCREG_ID, SVCREG_INSTANCE_KEY, SVCREG_LEASE.

With a health check, the instance is stored with health "critical" until the first check passes,
and discover returns only passing instances.

Examples:
  svcreg register user-service --id user-service-001 --port 5001 --tag v1 --meta zone=a
  svcreg register web --port 8080 -o json -- python3 -m http.server 8080
  svcreg register web --port 8080 --check-http http://127.0.0.1:8080/health --drain 10s -- ./server`,
    )
    .action(
      action(async (ctx, service: string, operands: string[], opts: Record<string, unknown>) => {
        // commander hands over the operands before `--` and the command after it as one list.
        const command = afterEndOfOptions(proc.argv, [...program.options, ...registerCommand.options]) ?? [];
        const stray = operands.slice(0, operands.length - command.length);
        if (stray.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(stray[0])}`, 'register takes one service name; put a command to run after --');
        return (await import('../commands/register.js')).register(ctx, service, opts, command);
      }),
    );

  program
    .command('list')
    .description('list every service with its instance count')
    .option('--instances', 'list every instance of every service')
    .addHelpText('after', '\nExamples:\n  svcreg list\n  svcreg list --instances -o json')
    .action(action(async (ctx, opts: Record<string, unknown>) => (await import('../commands/list.js')).list(ctx, opts)));

  program
    .command('discover')
    .description('print the passing instances of one service; exit 4 when none match')
    .argument('<service>', 'service name')
    .option('--tag <tag>', 'only instances with this tag (repeatable)', collect)
    .option('--meta <key=value>', 'only instances with this metadata (repeatable)', collect)
    .option('--wait', 'wait until enough instances match')
    .option('--min <n>', 'how many instances must match (default: 1)')
    .option('--wait-timeout <duration>', 'give up waiting after this long, exit 4 (implies --wait)')
    .option('--pick <first|random>', 'print only one instance')
    .option('--all', 'include instances whose health checks fail')
    .addHelpText(
      'after',
      `
Examples:
  svcreg discover user-service
  curl "http://$(svcreg discover web -o addr --pick random)/"
  svcreg discover web --tag v2 --meta zone=a -o json
  svcreg discover web --wait --min 2 --wait-timeout 60s   # a CI smoke check`,
    )
    .action(action(async (ctx, service: string, opts: Record<string, unknown>) => (await import('../commands/discover.js')).discover(ctx, service, opts)));

  program
    .command('watch')
    .description('stream PUT/DELETE events, one per line, until interrupted')
    .argument('[service]', 'only this service')
    .option('--rev <revision>', 'start from this revision (replays history)')
    .option('--count <n>', 'exit after n events')
    .addHelpText('after', '\nExamples:\n  svcreg watch\n  svcreg watch user-service -o ndjson\n  svcreg watch --rev 1 --count 10')
    .action(action(async (ctx, service: string | undefined, opts: Record<string, unknown>) => (await import('../commands/watch.js')).watch(ctx, service, opts)));

  program
    .command('purge')
    .description('delete entries (shows them first; asks on a terminal, needs --yes otherwise)')
    .argument('[service]', 'the service to purge')
    .option('--all', 'everything under the prefix')
    .option('--id <id>', 'only this instance')
    .option('--malformed', 'only entries whose key or value is not a valid instance')
    .option('--dry-run', 'show what would be deleted, delete nothing')
    .option('--yes', 'do not ask')
    .addHelpText(
      'after',
      `
Each entry is deleted only if it has not changed since it was listed.

Examples:
  svcreg purge offline-service --dry-run
  svcreg purge offline-service --yes
  svcreg purge --all --malformed --yes`,
    )
    .action(action(async (ctx, service: string | undefined, opts: Record<string, unknown>) => (await import('../commands/purge.js')).purge(ctx, service, opts)));

  return program;
}
