/**
 * The registry: what the commands do, as a library. Never prints, never exits;
 * failures are the typed errors of errors.ts.
 */
import { clusterStatus, type ClusterStatus } from '../etcd/cluster-status.js';
import { Connection, type ConnectionOptions } from '../etcd/connection.js';
import { classify, type InstanceRecord, type MalformedEntry } from './entry.js';
import { NotFoundError, UsageError } from './errors.js';
import { classifySnapshot, ServiceCounter, type DiscoverListing, type InstanceListing, type ServiceListing } from './listing.js';
import { followListing, type FollowOptions } from './live-listing.js';
import type { InstanceFilter } from './instance.js';
import { DEFAULT_PREFIX, instanceKey, validatePrefix, serviceKeyPrefix, validateSegment } from './keys.js';
import { describeMatches, selectInstances } from './matches.js';
import { Registration, type RegisterOptions } from './registration.js';
import { addTimesToLive } from './lease-ttl.js';
import { instanceIds, serviceNames } from './names.js';
import { deleteUnchanged, type PurgeEntry, type PurgeResult } from './purge.js';
import { PAGE_SIZE, readPages, readPrefix, type ReadOptions } from './snapshot.js';
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
export type { DiscoverListing, InstanceListing, ServiceListing, ServiceSummary } from './listing.js';
export type { FollowOptions } from './live-listing.js';

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
    const counter = new ServiceCounter();
    // Counted page by page: only the counts and the malformed entries are kept.
    for await (const page of this.listInstancePages(options)) counter.add(page);
    return counter.listing();
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
      // Classified and handed on PAGE_SIZE at a time, however large etcd's pages.
      for (let from = 0; from === 0 || from < page.kvs.length; from += PAGE_SIZE) {
        const kvs = page.kvs.slice(from, from + PAGE_SIZE);
        read += kvs.length;
        options.onProgress?.(read);
        const listing = classifySnapshot(this.prefix, { revision: page.revision, kvs });
        if (options.timeToLive) await addTimesToLive(conn, [...listing.instances, ...listing.malformed]);
        yield listing;
        // A turn of the event loop: the next page, asked for already, streams in meanwhile.
        await new Promise(setImmediate);
      }
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

  /** The services whose names start with `start`, from their keys alone (for shell completion). */
  async serviceNames(start = ''): Promise<string[]> {
    return serviceNames(await this.conn(), this.prefix, start);
  }

  /** The ids of `service`'s instances that start with `start`, from their keys alone. */
  async instanceIds(service: string, start = ''): Promise<string[]> {
    return instanceIds(await this.conn(), this.prefix, validateSegment('service name', service), start);
  }

  /**
   * One entry in full, valid or malformed, with its lease's time left (`ttl_left`).
   * Throws NotFoundError when nothing is stored under `<prefix><service>/<id>`.
   */
  async describe(service: string, id: string): Promise<InstanceRecord | MalformedEntry> {
    validateSegment('service name', service);
    validateSegment('instance id', id);
    const key = instanceKey(this.prefix, service, id);
    const conn = await this.conn();
    const { kvs } = await conn.call('read', (t, deadline) => t.range({ key: Buffer.from(key) }, deadline));
    if (kvs.length === 0) throw new NotFoundError(`no instance ${service}/${id} is registered`, `svcreg discover ${service} --all lists the instances of ${service}`);
    const entry = classify(this.prefix, kvs[0]);
    const found = entry.ok ? entry.record : entry.malformed;
    await addTimesToLive(conn, [found]);
    return found;
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
    let timedOut = false;
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), stop.abort()), options.timeoutMs);
    let found: DiscoverListing | undefined;
    try {
      for await (const listing of followListing(conn, this.prefix, serviceKeyPrefix(this.prefix, service), { signal: stop.signal, onStatus: options.onStatus })) {
        found = { ...listing, ...selectInstances(listing.instances, options.filter, options.all) };
        if (found.instances.length >= min) return found;
      }
    } finally {
      clearTimeout(timer);
    }
    if (timedOut) {
      throw new NotFoundError(`timed out waiting for ${min} instance${min === 1 ? '' : 's'} of ${service}: ${describeMatches(found!.counts, options.filter, options.all)}`);
    }
    return found!;
  }

  /**
   * The instances of the whole registry, or of one `service`, as they change: the
   * listing now, then again after each change (changes that arrive together come as one
   * listing), from one read and the gap-free watch. Stop it with `options.signal` or by
   * breaking out of the loop.
   */
  async *follow(service?: string, options: FollowOptions = {}): AsyncGenerator<InstanceListing> {
    if (service !== undefined) validateSegment('service name', service);
    const conn = await this.conn();
    yield* followListing(conn, this.prefix, service === undefined ? this.prefix : serviceKeyPrefix(this.prefix, service), options);
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

  /**
   * Asks every endpoint for its member's status, each on its own and all at once within
   * the request deadline, and the cluster for its alarms. An endpoint that does not answer
   * is a row saying why, never an error.
   */
  async status(): Promise<ClusterStatus> {
    return clusterStatus(await this.conn());
  }

  /** Closes the connection. Live registrations should be deregistered first. */
  close(): void {
    void this.connection?.then((c) => c.close(), () => undefined);
    this.connection = undefined;
  }

  private async read(keyPrefix: string, options: ReadOptions = {}): Promise<InstanceListing> {
    return classifySnapshot(this.prefix, await readPrefix(await this.conn(), keyPrefix, options));
  }
}
