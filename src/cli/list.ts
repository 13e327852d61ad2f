/** `svcreg list`: its options, help and examples. */
import type { Command } from 'commander';
import type { Action } from './action.js';

export function defineList(program: Command, action: Action): void {
  program
    .command('list')
    .description('list every service with its instance count')
    .option('--instances', 'list every instance of every service')
    .addHelpText('after', '\nExamples:\n  svcreg list\n  svcreg list --instances -o json')
    .action(action(async (ctx, opts: Record<string, unknown>) => (await import('../commands/list.js')).list(ctx, opts)));
}
