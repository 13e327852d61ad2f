/**
 * `svcreg status`: a row per endpoint (reachable, version, leader, DB size, revision, raft
 * term, alarms, round trip). Exit 0 only when every endpoint answers, the cluster has a
 * leader and no alarm is raised; otherwise 3, after the table, with the reason on stderr.
 */
import { message } from '../output/io.js';
import { PROGRESS_DELAY_MS, startSpinner } from '../output/spinner.js';
import { printStatus, statusProblems } from '../output/status.js';
import type { ClusterStatus } from '../index.js';
import type { CommandContext } from './context.js';

/** The exit code of etcd unreachable, as a cluster partly unreachable, leaderless or alarmed is too. */
const NOT_HEALTHY = 3;

export async function status(ctx: CommandContext): Promise<number> {
  const format = ctx.format(['table', 'wide', 'json', 'ndjson', 'yaml', 'template']);
  const spinner = startSpinner(ctx.io, 'asking every endpoint', PROGRESS_DELAY_MS);
  let result: ClusterStatus;
  try {
    result = await ctx.registry.status();
  } finally {
    spinner.stop();
  }
  printStatus(ctx.io, format, result);
  if (result.healthy) return 0;
  message(ctx.io, `not healthy: ${statusProblems(result)}`);
  return NOT_HEALTHY;
}
