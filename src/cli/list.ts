/** `svcreg list`: its options, help and examples. */
import type { Command } from 'commander';
import type { Action } from './action.js';

export function defineList(program: Command, action: Action): void {
  program
    .command('list')
    .description('list every service with its instance count')
    .option('--instances', 'list every instance of every service')
    .option('-w, --watch', 'keep the listing current: redrawn on a terminal after every change, one JSON document per change with -o json/ndjson')
    .addHelpText(
      'after',
      `
Examples:
  svcreg list
  svcreg list --instances -o json
  svcreg list --watch                      # until Ctrl-C
  svcreg list --instances --watch -o ndjson | jq -c 'length'`,
    )
    .action(action(async (ctx, opts: Record<string, unknown>) => (await import('../commands/list.js')).list(ctx, opts)));
}
