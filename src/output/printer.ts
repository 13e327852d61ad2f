/**
 * The printer interface: one method per kind of result, one implementation per
 * output format (etcdctl's split between commands and printers).
 */
import type { MalformedEntry, InstanceListing, PurgeEntry, PurgeResult, ServiceListing, Health, RegisteredInfo, ResyncEvent, WatchEvent } from '../index.js';

/** A registrant's lifecycle, as `register` reports it. */
export type RegistrationEvent =
  | ({ event: 'registered' | 'reregistered' } & RegisteredInfo)
  | { event: 'lost'; key: string; lease: string; reason: string }
  | { event: 'deregistered'; key: string }
  | ({ event: 'health'; key: string } & Health);

/** What a person is told on stderr about a lifecycle event, whatever the output format. */
export function lifecycleMessage(event: RegistrationEvent): string | undefined {
  switch (event.event) {
    case 'reregistered':
      return `re-registered ${event.key} with a new lease ${event.lease} (ttl ${event.ttl}s)`;
    case 'lost':
      return `registration lost: ${event.key}: ${event.reason}`;
    case 'deregistered':
      return `deregistered ${event.key}`;
    case 'health':
      return `${event.key} is ${event.status} (${event.output})`;
    default:
      return undefined;
  }
}

/** The stderr line for a resync, whatever the output format. */
export function resyncMessage(event: ResyncEvent): string {
  const why =
    event.reason === 'compacted'
      ? `history before revision ${event.compact_revision} was compacted`
      : event.reason === 'cluster changed'
        ? 'etcd answers as another cluster (a new cluster ID)'
        : 'etcd is at an earlier revision than was delivered (restarted on a new data dir?)';
  return `${why}: resynced at revision ${event.revision}; the events that follow are the difference`;
}

export interface Printer {
  services(listing: ServiceListing): void;
  /** `withMalformed`: list malformed entries beside the instances (list --instances). */
  instances(listing: InstanceListing, withMalformed: boolean): void;
  /** Prints every page of a listing, malformed entries included, as it arrives; returns the malformed ones. */
  streamInstances(pages: AsyncIterable<InstanceListing>): Promise<MalformedEntry[]>;
  watchEvent(event: WatchEvent): void;
  registration(event: RegistrationEvent): void;
  purgePlan(entries: PurgeEntry[]): void;
  purgeResult(result: PurgeResult): void;
}
