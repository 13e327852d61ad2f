/** `svcreg watch`: its options, help and examples. */
import type { Command } from 'commander';
import type { Action } from './action.js';

export function defineWatch(program: Command, action: Action): void {
  program
    .command('watch')
    .description('stream PUT/DELETE events, one per line, until interrupted')
    .argument('[service]', 'only this service')
    .option('--rev <revision>', 'start from this revision (replays history)')
    .option('--count <n>', 'exit after n events')
    .addHelpText('after', '\nExamples:\n  svcreg watch\n  svcreg watch user-service -o ndjson\n  svcreg watch --rev 1 --count 10')
    .action(action(async (ctx, service: string | undefined, opts: Record<string, unknown>) => (await import('../commands/watch.js')).watch(ctx, service, opts)));
}
