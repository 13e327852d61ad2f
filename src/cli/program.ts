/**
 * commander wiring: the global options, and each subcommand from its own definition
 * (cli/<verb>.ts). Command modules (and the registry behind them) load only when their
 * command runs, so `--help` and `--version` stay fast.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { mayBeTerminal, writeStdoutNow } from '../output/io.js';
import type { CommandContext } from '../commands/context.js';
import type { Action } from './action.js';
import { defineCompletion } from './completion.js';
import { defineContext } from './context.js';
import { defineDescribe } from './describe.js';
import { defineDiscover } from './discover.js';
import { commandContext, type Process } from './globals.js';
import { defineList } from './list.js';
import { definePurge } from './purge.js';
import { defineRegister } from './register.js';
import { defineRender } from './render.js';
import { defineStatus } from './status.js';
import { defineWatch } from './watch.js';
// Leaf modules of the library, not index.ts: `--help` must not load the registry.
import { DEFAULT_ENDPOINT } from '../etcd/endpoints.js';
import { DEFAULT_PREFIX } from '../registry/keys.js';

export type { Process } from './globals.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Builds the program; `run` parses argv and resolves to the exit code. */
export function buildProgram(proc: Process, setResult: (code: Promise<number>) => void): Command {
  const program = new Command('svcreg')
    .description('A service registry on etcd: register, list, discover, describe, watch and purge service instances; check the cluster with status.')
    .version(version, '-v, --version')
    .addOption(new Option('--endpoints <urls>', `etcd endpoints, comma-separated (default: ${DEFAULT_ENDPOINT}, or ETCDCTL_ENDPOINTS)`).env('SVCREG_ENDPOINTS'))
    .addOption(new Option('--prefix <prefix>', `key prefix (default: ${DEFAULT_PREFIX})`).env('SVCREG_PREFIX'))
    .addOption(new Option('--timeout <duration>', 'deadline of each request: 500ms, 5s, 1m (default: 5s)').env('SVCREG_TIMEOUT'))
    .addOption(
      new Option('-o, --output <format>', 'table | wide | json | ndjson | yaml | template=TEMPLATE | template-file=PATH | addr, where it fits (default: table)')
        .env('SVCREG_OUTPUT')
        // `-o=json`, as kubectl spells it, reaches commander's short-option parsing as "=json".
        .argParser((value: string) => value.replace(/^=/, '')),
    )
    .addOption(new Option('--cacert <file>', 'CA certificate for https:// endpoints').env('SVCREG_CACERT'))
    .addOption(new Option('--cert <file>', 'client certificate (TLS)').env('SVCREG_CERT'))
    .addOption(new Option('--key <file>', 'client key (TLS)').env('SVCREG_KEY'))
    .addOption(new Option('--user <name>', 'etcd user; the password comes from --password-file, SVCREG_PASSWORD or a prompt').env('SVCREG_USER'))
    .addOption(new Option('--password-file <file>', 'read the password of --user from this file (its first line)').env('SVCREG_PASSWORD_FILE'))
    .addOption(new Option('--context <name>', "use this context of the config file (default: its current-context; see svcreg context --help)").env('SVCREG_CONTEXT'))
    .option('--no-color', 'no colour (also: NO_COLOR)')
    .option('--debug', 'print stack traces on errors')
    .showHelpAfterError('(run svcreg --help for usage)')
    // commander's own errors ("error: unknown option") look like ours.
    .configureOutput({
      // Help and the version without opening process.stdout unless it may be a terminal (see writeStdoutNow).
      writeOut: writeStdoutNow,
      getOutHelpWidth: () => (mayBeTerminal(1) && process.stdout.isTTY ? process.stdout.columns : 80),
      getOutHasColors: () => mayBeTerminal(1) && process.stdout.isTTY && process.stdout.hasColors(),
      outputError: (text, write) => write(`svcreg: ${text}`),
    })
    // Throw instead of exiting, so main.ts maps usage errors to exit 2. Set before the
    // subcommands are added: commander copies these settings into each one on creation.
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 unexpected error, 2 invalid usage or input, 3 etcd unreachable or timed out,
4 nothing found / wait timed out, 5 already registered, 6 registration lost, 7 auth denied,
8 etcd refuses writes (an alarm is raised).

Examples:
  svcreg register web --port 8080 --tag v1 -- node server.js
  svcreg discover web -o addr --pick random
  svcreg list --instances -o json
  svcreg list --watch
  svcreg describe web web-1
  svcreg status
  source <(svcreg completion bash)`,
    );

  const action: Action = <A extends unknown[]>(load: (ctx: CommandContext, ...args: A) => Promise<number>) =>
    async function (this: Command, ...args: unknown[]) {
      // commander passes the command itself last.
      setResult(commandContext(this, proc).then((ctx) => load(ctx, ...(args.slice(0, -1) as A))));
    };

  defineRegister(program, action, proc.argv);
  defineList(program, action);
  defineDiscover(program, action);
  defineDescribe(program, action);
  defineWatch(program, action, proc.argv);
  defineRender(program, action);
  definePurge(program, action);
  defineStatus(program, action);
  defineContext(program, action);
  defineCompletion(program, proc, setResult);
  return program;
}
