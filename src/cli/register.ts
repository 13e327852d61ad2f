/** `svcreg register`: its options, help and examples. */
import type { Command } from 'commander';
import { collect, type Action } from './action.js';
import { afterEndOfOptions } from './end-of-options.js';
import { UsageError } from '../registry/errors.js';

export function defineRegister(program: Command, action: Action, argv: readonly string[]): void {
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
        const command = afterEndOfOptions(argv, [...program.options, ...registerCommand.options]) ?? [];
        const stray = operands.slice(0, operands.length - command.length);
        if (stray.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(stray[0])}`, 'register takes one service name; put a command to run after --');
        return (await import('../commands/register.js')).register(ctx, service, opts, command);
      }),
    );
}
