/** `svcreg status`: its help and examples. */
import type { Command } from 'commander';
import type { Action } from './action.js';

export function defineStatus(program: Command, action: Action): void {
  program
    .command('status')
    .description("each endpoint's member: reachable, leader, version, DB size, alarms, round trip; exit 3 unless all is well")
    .addHelpText(
      'after',
      `
Every endpoint in --endpoints is asked on its own (no failover), all at once, each within --timeout.
Exit 0 when every endpoint answers, the cluster has a leader and no alarm is raised; otherwise 3,
with the table still printed and one line on stderr saying why.

Examples:
  svcreg status
  svcreg status --endpoints http://etcd1:2379,http://etcd2:2379,http://etcd3:2379 -o wide
  svcreg status -o json | jq -r '.[] | select(.is_leader) | .endpoint'
  svcreg status --timeout 2s >/dev/null || exit 1   # a CI pre-check`,
    )
    .action(action(async (ctx) => (await import('../commands/status.js')).status(ctx)));
}
