/**
 * What a discovery found, counted: so "nothing matches" can say whether nothing is
 * registered, a filter left nothing, or nothing passes its health checks.
 */
import type { InstanceRecord } from './entry.js';
import { NotFoundError } from './errors.js';
import { isPassing } from './health.js';
import { matchesFilter, type InstanceFilter } from './instance.js';

export interface MatchCounts {
  /** Valid instances of the service. */
  registered: number;
  /** Of those, the ones the filter keeps. */
  matching: number;
  /** Of those, the ones passing their health checks. */
  passing: number;
}

/** The instances discover returns (matching the filter and, unless `all`, passing), with the counts. */
export function selectInstances(instances: InstanceRecord[], filter: InstanceFilter = {}, all = false): { instances: InstanceRecord[]; counts: MatchCounts } {
  const matching = instances.filter((i) => matchesFilter(i, filter));
  const passing = matching.filter(isPassing);
  return { instances: all ? matching : passing, counts: { registered: instances.length, matching: matching.length, passing: passing.length } };
}

/** "none registered", "2 registered, 0 passing", "2 registered, none with tag v1", "3 registered, 1 with tag v1, 0 of them passing". */
export function describeMatches(counts: MatchCounts, filter: InstanceFilter = {}, all = false): string {
  if (counts.registered === 0) return 'none registered';
  const parts = [`${counts.registered} registered`];
  const described = describeFilter(filter);
  if (described) parts.push(`${counts.matching === 0 ? 'none' : counts.matching} with ${described}`);
  if (!all && counts.matching > 0) parts.push(`${counts.passing}${described ? ' of them' : ''} passing`);
  return parts.join(', ');
}

/** "tag v1", "tags v1, v2 and zone=a"; empty without a filter. */
function describeFilter(filter: InstanceFilter): string {
  const tags = filter.tags ?? [];
  const parts = tags.length === 0 ? [] : [`tag${tags.length === 1 ? '' : 's'} ${tags.join(', ')}`];
  for (const [k, v] of Object.entries(filter.meta ?? {})) parts.push(`${k}=${v}`);
  return parts.join(' and ');
}

/** The NotFoundError of a discovery that found nothing: it says whether anything is registered, the filter kept nothing, or nothing passes. */
export function nothingMatches(service: string, counts: MatchCounts, options: { filter?: InstanceFilter; all?: boolean; prefix: string }): NotFoundError {
  if (counts.registered === 0) return new NotFoundError(`no instance of ${service} is registered`, `svcreg list shows the services under ${options.prefix}`);
  const found = describeMatches(counts, options.filter, options.all);
  if (counts.matching === 0) return new NotFoundError(`no instance of ${service} matches: ${found}`, 'without --tag and --meta, discover shows what they have');
  return new NotFoundError(`no passing instance of ${service} matches: ${found}`, '--all includes instances whose health checks fail');
}
