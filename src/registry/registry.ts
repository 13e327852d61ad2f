/**
 * The registry: what the commands do, as a library. Never prints, never exits;
 * failures are the typed errors of errors.ts.
 */
import { Connection, type ConnectionOptions } from '../etcd/connection.js';
import { classify, type InstanceRecord, type MalformedEntry } from './entry.js';
import { NotFoundError, UsageError } from './errors.js';
import { isPassing } from './health.js';
import type { InstanceFilter } from './instance.js';
import { DEFAULT_PREFIX, instanceKey, validatePrefix, serviceKeyPrefix, validateSegment } from './keys.js';
import { describeMatches, selectInstances, type MatchCounts } from './matches.js';
import { Registration, type RegisterOptions } from './registration.js';
import { addTimesToLive } from './lease-ttl.js';
import { deleteUnchanged, type PurgeEntry, type PurgeResult } from './purge.js';
import { readPages, readPrefix, type ReadOptions, type Snapshot } from './snapshot.js';
import { watchPrefix, type WatchEvent, type WatchOptions } from './watch.js';

/** For long listings and purges: called after each page read or entry deleted, with the total so far. */
export interface ProgressOptions {
  /** Also read how long each entry's lease has left (`ttl_left`): one request per lease. */
  timeToLive?: boolean;
  onProgress?: (done: number) => void;
}

export interface RegistryOptions extends ConnectionOptions {
  /** Key prefix, `/services/` by default. */
  prefix?: string;
}

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

export interface WaitOptions {
  filter?: InstanceFilter;
  /** Count instances whatever their health (default: passing ones only). */
  all?: boolean;
  /** How many matching instances to wait for (default 1). */
  min?: number;
  /** Give up after this long (default: wait forever). */
  timeoutMs?: number;
  signal?: AbortSignal;
  onStatus?: WatchOptions['onStatus'];
}

export type { PurgeEntry, PurgeResult } from './purge.js';

/** What `purge` selects: one service (optionally one id) or everything under the prefix. */
export interface PurgeSelection {
  service?: string;
  all?: boolean;
  id?: string;
  /** Only entries whose key or value is not a valid instance. */
  malformedOnly?: boolean;
}

/**
 * A service registry on etcd. Nothing connects until the first call.
 *
 * ```ts
 * const registry = new Registry({ endpoints: ['http://127.0.0.1:2379'] });
 * const reg = await registry.register({ service: 'web', id: 'web-1', address: '10.0.0.5', port: 8080 });
 * const { instances } = await registry.discover('web');
 * await reg.deregister();
 * registry.close();
 * ```
 */
export class Registry {
  readonly prefix: string;
  private connection: Promise<Connection> | undefined;

  constructor(private readonly options: RegistryOptions = {}) {
    this.prefix = validatePrefix(options.prefix ?? DEFAULT_PREFIX);
  }

  private conn(): Promise<Connection> {
    this.connection ??= Connection.open(this.options);
    return this.connection;
  }

  /**
   * Registers one instance: grants a lease, writes the key only if it is absent
   * (AlreadyRegisteredError otherwise, unless `replace`), and keeps the lease alive
   * until `deregister()`. Resolves once the key is written.
   */
  async register(options: RegisterOptions): Promise<Registration> {
    validateSegment('service name', options.service);
    validateSegment('instance id', options.id);
    const conn = await this.conn();
    return Registration.start(conn, instanceKey(this.prefix, options.service, options.id), options);
  }

  /** Every service with its instance count, from one snapshot. */
  async list(options: ProgressOptions = {}): Promise<ServiceListing> {
    const rows = new Map<string, ServiceSummary>();
    const row = (service: string) => {
      let r = rows.get(service);
      if (!r) rows.set(service, (r = { service, instances: 0, healthy: 0, malformed: 0 }));
      return r;
    };
    let revision = 0;
    const malformed: MalformedEntry[] = [];
    // Counted page by page: only the counts and the malformed entries are kept.
    for await (const page of this.listInstancePages(options)) {
      revision = page.revision;
      for (const i of page.instances) {
        const r = row(i.service_name);
        r.instances++;
        if (isPassing(i)) r.healthy++;
      }
      for (const m of page.malformed) if (m.service) row(m.service).malformed++;
      malformed.push(...page.malformed);
    }
    const services = [...rows.values()].sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
    return { revision, services, malformed };
  }

  /** Every instance of every service, from one snapshot. */
  async listInstances(): Promise<InstanceListing> {
    return this.read(this.prefix, { large: true });
  }

  /**
   * Every instance of every service, a page at a time, all pages from one snapshot:
   * for listings too large to hold at once.
   */
  async *listInstancePages(options: ProgressOptions = {}): AsyncGenerator<InstanceListing> {
    const conn = await this.conn();
    let read = 0;
    for await (const page of readPages(conn, this.prefix, { large: true })) {
      read += page.kvs.length;
      options.onProgress?.(read);
      const listing = this.classifyAll(page);
      if (options.timeToLive) await addTimesToLive(conn, [...listing.instances, ...listing.malformed]);
      yield listing;
    }
  }

  /**
   * The instances of exactly `service` that match `filter` and are passing their
   * health checks (instances without checks count as passing); `all` keeps the rest.
   */
  async discover(service: string, filter: InstanceFilter = {}, options: { all?: boolean; timeToLive?: boolean } = {}): Promise<DiscoverListing> {
    validateSegment('service name', service);
    const listing = await this.read(serviceKeyPrefix(this.prefix, service));
    const selected = { ...listing, ...selectInstances(listing.instances, filter, options.all) };
    if (options.timeToLive) await addTimesToLive(await this.conn(), selected.instances);
    return selected;
  }

  /**
   * Waits until at least `min` instances of `service` match, and returns them.
   * Reads once, then watches from that read's revision, so no registration can slip
   * between the two. Throws NotFoundError when `timeoutMs` passes first.
   */
  async waitFor(service: string, options: WaitOptions = {}): Promise<DiscoverListing> {
    validateSegment('service name', service);
    const min = options.min ?? 1;
    // Linked before any await, so an abort that comes early is not missed.
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    if (options.signal?.aborted) stop.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.waitUntil(service, min, options, stop);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async waitUntil(service: string, min: number, options: WaitOptions, stop: AbortController): Promise<DiscoverListing> {
    const conn = await this.conn();
    const keyPrefix = serviceKeyPrefix(this.prefix, service);
    const snap = await readPrefix(conn, keyPrefix);
    const first = this.classifyAll(snap);
    const current = new Map(first.instances.map((i) => [i.key, i]));
    const malformed = new Map(first.malformed.map((m) => [m.key, m]));
    let revision = snap.revision;
    const result = () => ({ revision, ...selectInstances([...current.values()], options.filter, options.all), malformed: [...malformed.values()] });
    const enough = () => result().instances.length >= min;
    if (enough() || stop.signal.aborted) return result();

    let timedOut = false;
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), stop.abort()), options.timeoutMs);
    // Mid-resync, the instances are half old and half new: count them only once it is through.
    let resyncing = 0;
    try {
      for await (const event of watchPrefix(conn, this.prefix, keyPrefix, { initial: snap, signal: stop.signal, onStatus: options.onStatus })) {
        if (event.type === 'RESYNC') {
          resyncing = event.changes;
          continue;
        }
        if (event.resync) resyncing--;
        revision = event.revision;
        current.delete(event.key);
        malformed.delete(event.key);
        if (event.record) current.set(event.key, event.record);
        if (resyncing <= 0 && enough()) return result();
      }
    } finally {
      clearTimeout(timer);
    }
    if (timedOut) {
      const { counts } = result();
      throw new NotFoundError(`timed out waiting for ${min} instance${min === 1 ? '' : 's'} of ${service}: ${describeMatches(counts, options.filter, options.all)}`);
    }
    return result();
  }

  /**
   * Streams PUT and DELETE events under the prefix (or one service) exactly once and
   * in revision order, across reconnects; after a compaction, a RESYNC event and the
   * difference. Stop it with `options.signal` or by breaking out of the loop.
   */
  async *watch(service?: string, options: WatchOptions = {}): AsyncGenerator<WatchEvent> {
    if (service !== undefined) validateSegment('service name', service);
    if (options.startRevision !== undefined && !(Number.isInteger(options.startRevision) && options.startRevision > 0)) {
      throw new UsageError(`invalid start revision ${options.startRevision}`, 'use a positive integer');
    }
    const conn = await this.conn();
    const keyPrefix = service === undefined ? this.prefix : serviceKeyPrefix(this.prefix, service);
    yield* watchPrefix(conn, this.prefix, keyPrefix, options);
  }

  /** Lists what a purge would delete, with each entry's revision. Deletes nothing. */
  async planPurge(selection: PurgeSelection): Promise<PurgeEntry[]> {
    if (this.prefix === '/') throw new UsageError('refusing to purge under the prefix "/": that is all of etcd', 'pass the prefix the registry lives under, such as /services/');
    if (Boolean(selection.all) === (selection.service !== undefined)) {
      throw new UsageError('name a service, or pass --all');
    }
    if (selection.service !== undefined) validateSegment('service name', selection.service);
    if (selection.id !== undefined) {
      if (selection.service === undefined) throw new UsageError('--id needs a service');
      validateSegment('instance id', selection.id);
    }
    const range =
      selection.service === undefined
        ? this.prefix
        : selection.id === undefined
          ? serviceKeyPrefix(this.prefix, selection.service)
          : instanceKey(this.prefix, selection.service, selection.id);
    const listing = await this.read(range, { large: selection.service === undefined });
    const entries: PurgeEntry[] = [];
    for (const m of listing.malformed) {
      entries.push({ key: m.key, mod_revision: m.mod_revision, service: m.service, id: m.id, problem: m.problem });
    }
    if (!selection.malformedOnly) {
      for (const i of listing.instances) {
        entries.push({ key: i.key, mod_revision: i.mod_revision, service: i.service_name, id: i.service_id, instance: i });
      }
    }
    // An exact-key selection must not match longer keys that share it as a prefix.
    const exact = selection.id === undefined ? entries : entries.filter((e) => e.key === range);
    return exact.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * Deletes the planned entries, each only if unchanged since it was listed. Entries
   * go in batches, one transaction each that deletes all of them only if none changed;
   * a batch where one did is retried entry by entry. The result keeps the plan's order.
   */
  async purge(entries: PurgeEntry[], options: ProgressOptions = {}): Promise<PurgeResult> {
    for (const entry of entries) {
      if (!entry.key.startsWith(this.prefix)) throw new UsageError(`refusing to delete ${entry.key}: outside ${this.prefix}`);
    }
    return deleteUnchanged(await this.conn(), entries, options.onProgress);
  }

  /** Closes the connection. Live registrations should be deregistered first. */
  close(): void {
    void this.connection?.then((c) => c.close(), () => undefined);
    this.connection = undefined;
  }

  private async read(keyPrefix: string, options: ReadOptions = {}): Promise<InstanceListing> {
    return this.classifyAll(await readPrefix(await this.conn(), keyPrefix, options));
  }

  private classifyAll(snap: Snapshot): InstanceListing {
    const instances: InstanceRecord[] = [];
    const malformed: MalformedEntry[] = [];
    for (const kv of snap.kvs) {
      const entry = classify(this.prefix, kv);
      if (entry.ok) instances.push(entry.record);
      else malformed.push(entry.malformed);
    }
    return { revision: snap.revision, instances, malformed };
  }
}
