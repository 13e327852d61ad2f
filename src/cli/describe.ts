/** `svcreg describe`: its help and examples. */
import type { Command } from 'commander';
import type { Action } from './action.js';

export function defineDescribe(program: Command, action: Action): void {
  program
    .command('describe')
    .description('show one instance in full: every field, lease and time left, health with the last check, age, revisions; exit 4 when absent')
    .argument('<service>', 'service name')
    .argument('<id>', 'instance id')
    .addHelpText(
      'after',
      `
A malformed entry at that key is shown with what is wrong with it (exit 0).

Examples:
  svcreg describe web web-1
  svcreg describe web web-1 -o json | jq .ttl_left`,
    )
    .action(action(async (ctx, service: string, id: string) => (await import('../commands/describe.js')).describe(ctx, service, id)));
}
