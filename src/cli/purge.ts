/** `svcreg purge`: its options, help and examples. */
import type { Command } from 'commander';
import type { Action } from './action.js';

export function definePurge(program: Command, action: Action): void {
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
}
