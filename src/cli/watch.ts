/** `svcreg watch`: its options, help and examples. */
import type { Command } from 'commander';
import type { Action } from './action.js';
import { afterEndOfOptions } from './end-of-options.js';
import { UsageError } from '../registry/errors.js';

export function defineWatch(program: Command, action: Action, argv: readonly string[]): void {
  const watchCommand = program
    .command('watch')
    .usage('[options] [service] [-- command args...]')
    .description('stream PUT/DELETE events, one per line, until interrupted (or run a command once per event, after --)')
    .argument('[service]', 'only this service')
    .argument('[command...]', 'a command to run once per event, after --')
    .option('--rev <revision>', 'start from this revision (replays history)')
    .option('--count <n>', 'exit after n events (with -- command: n events handled)')
    .option('--handler-timeout <duration>', 'with -- command: stop a handler still running this long (SIGTERM, then SIGKILL after --kill-timeout)')
    .option('--kill-timeout <duration>', 'with -- command: SIGKILL a signalled handler that has not exited this long after (default: 10s)')
    .addHelpText(
      'after',
      `
With -- command, runs it once per event, one at a time, in revision order, instead of printing:
the event's ndjson object on its stdin, and in its environment SVCREG_EVENT_TYPE, _KEY, _SERVICE,
_ID, _REVISION (and _RESYNC=1 after a resync) plus etcdctl's ETCD_WATCH_EVENT_TYPE, _KEY, _VALUE
and _REVISION, as \`etcdctl watch -- cmd\` sets them. Its stdout and stderr are svcreg's. A handler
that fails is reported on stderr and the watch goes on. The first Ctrl-C (SIGINT, SIGTERM) waits
for a running handler and exits 0; a second one is passed on to it and exits 128+n. Exits 127
before watching when the command cannot be found.

Examples:
  svcreg watch
  svcreg watch user-service -o ndjson
  svcreg watch --rev 1 --count 10
  svcreg watch web -- sh -c 'echo "$SVCREG_EVENT_TYPE $SVCREG_EVENT_ID" >> /tmp/web-changes'`,
    )
    .action(
      action(async (ctx, service: string | undefined, operands: string[], opts: Record<string, unknown>) => {
        // commander hands over the operands before `--` and the command after it as one list.
        const command = afterEndOfOptions(argv, [...program.options, ...watchCommand.options]);
        const given = service === undefined ? [] : [service, ...operands];
        const before = given.slice(0, given.length - (command?.length ?? 0));
        if (before.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(before[1])}`, 'watch takes one service name; put a command to run after --');
        if (command === undefined) return (await import('../commands/watch.js')).watch(ctx, before[0], opts);
        if (command.length === 0) throw new UsageError('-- needs a command after it', 'e.g. svcreg watch web -- ./on-change.sh');
        return (await import('../commands/watch-handler.js')).watchHandler(ctx, before[0], opts, command);
      }),
    );
}
