/** `svcreg discover`: its options, help and examples. */
import type { Command } from 'commander';
import { collect, type Action } from './action.js';

export function defineDiscover(program: Command, action: Action): void {
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
    .option('-w, --watch', 'keep the instances current: redrawn on a terminal after every change, one JSON document per change with -o json/ndjson')
    .addHelpText(
      'after',
      `
Examples:
  svcreg discover user-service
  curl "http://$(svcreg discover web -o addr --pick random)/"
  svcreg discover web --tag v2 --meta zone=a -o json
  svcreg discover web --wait --min 2 --wait-timeout 60s   # a CI smoke check
  svcreg discover web --watch                             # until Ctrl-C`,
    )
    .action(action(async (ctx, service: string, opts: Record<string, unknown>) => (await import('../commands/discover.js')).discover(ctx, service, opts)));
}
