/** Listings: what was read under a prefix, classified, and counted per service. */
import { classify, type InstanceRecord, type MalformedEntry } from './entry.js';
import { isPassing } from './health.js';
import type { MatchCounts } from './matches.js';
import type { Snapshot } from './snapshot.js';

/** One row of `list`: a service and how many instances it has. */
export interface ServiceSummary {
  service: string;
  instances: number;
  /** Instances whose health is passing (or that have no health checks). */
  healthy: number;
  /** Entries under this service that are not valid instances. */
  malformed: number;
}

/** Instances read in one consistent snapshot, with whatever was malformed beside them. */
export interface InstanceListing {
  revision: number;
  instances: InstanceRecord[];
  malformed: MalformedEntry[];
}

/** What discover and waitFor return: the instances wanted, and how many there were before filtering. */
export interface DiscoverListing extends InstanceListing {
  counts: MatchCounts;
}

export interface ServiceListing {
  revision: number;
  services: ServiceSummary[];
  malformed: MalformedEntry[];
}

/** Every entry of a snapshot, valid or not. */
export function classifySnapshot(registryPrefix: string, snap: Snapshot): InstanceListing {
  const instances: InstanceRecord[] = [];
  const malformed: MalformedEntry[] = [];
  for (const kv of snap.kvs) {
    const entry = classify(registryPrefix, kv);
    if (entry.ok) instances.push(entry.record);
    else malformed.push(entry.malformed);
  }
  return { revision: snap.revision, instances, malformed };
}

/** Counts instances per service, a listing (or a page of one) at a time. */
export class ServiceCounter {
  private readonly rows = new Map<string, ServiceSummary>();
  private readonly malformed: MalformedEntry[] = [];
  private revision = 0;

  add(listing: InstanceListing): this {
    this.revision = listing.revision;
    for (const i of listing.instances) {
      const r = this.row(i.service_name);
      r.instances++;
      if (isPassing(i)) r.healthy++;
    }
    for (const m of listing.malformed) if (m.service) this.row(m.service).malformed++;
    this.malformed.push(...listing.malformed);
    return this;
  }

  /** The services, sorted by name. */
  listing(): ServiceListing {
    const services = [...this.rows.values()].sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
    return { revision: this.revision, services, malformed: this.malformed };
  }

  private row(service: string): ServiceSummary {
    let r = this.rows.get(service);
    if (!r) this.rows.set(service, (r = { service, instances: 0, healthy: 0, malformed: 0 }));
    return r;
  }
}
