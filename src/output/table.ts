/** Tables and lines for people: the default output (`-o wide`: every cell whole, plus lease and revisions). */
import { Chalk, type ChalkInstance } from 'chalk';
import type { InstanceRecord, MalformedEntry, Instance, InstanceListing, PurgeEntry, PurgeResult, ServiceListing, WatchEvent } from '../index.js';
import { isPassing } from '../index.js';
import { hostPort } from './addr.js';
import { cellText, StreamingTable, type Column } from './columns.js';
import { escapeControls } from './escape.js';
import { message, type Io } from './io.js';
import { lifecycleMessage, resyncMessage, type Printer, type RegistrationEvent } from './printer.js';

/** How long ago `seconds` (epoch) was: 42s, 5m, 3h, 2d. */
export function age(seconds: number, now = Date.now() / 1000): string {
  const d = Math.max(0, Math.floor(now - seconds));
  if (d < 120) return `${d}s`;
  if (d < 7200) return `${Math.floor(d / 60)}m`;
  if (d < 172_800) return `${Math.floor(d / 3600)}h`;
  return `${Math.floor(d / 86_400)}d`;
}

/**
 * HEALTH as discover reads it (isPassing): `passing`, `critical` (any status but passing,
 * which discover leaves out), or `-` for an instance that runs no checks (it counts as passing).
 */
export function healthText(instance: Instance): string {
  if (!isPassing(instance)) return 'critical';
  return instance.health == null ? '-' : 'passing';
}

function metaText(metadata: Record<string, unknown>): string {
  return Object.entries(metadata)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(',');
}

const NO_LEASE = 'no lease';

/** A lease's time left: `17s`, `expired`, or `-` when there is no lease or it was not read. */
function ttlText(ttl: number | null | undefined): string {
  if (ttl === undefined || ttl === null) return '-';
  return ttl < 0 ? 'expired' : `${ttl}s`;
}

export class TablePrinter implements Printer {
  private constructor(
    private readonly io: Io,
    private readonly paint: ChalkInstance,
    private readonly wide: boolean,
  ) {}

  static create(io: Io, wide: boolean): TablePrinter {
    return new TablePrinter(io, new Chalk({ level: io.color ? 1 : 0 }), wide);
  }

  private table(columns: Column[]): StreamingTable {
    return new StreamingTable(this.io.stdout, columns, { wide: this.wide, paintHead: this.paint.bold });
  }

  /** A colour chosen by a cell's text; none without colour, so plain tables pay nothing for it. */
  private painter(pick: (text: string) => ChalkInstance | undefined): ((text: string) => string) | undefined {
    return this.io.color ? (text) => pick(text)?.(text) ?? text : undefined;
  }

  services(listing: ServiceListing): void {
    const table = this.table(['SERVICE', 'INSTANCES', 'HEALTHY', 'MALFORMED'].map((head) => ({ head })));
    table.write(listing.services.map((s) => [s.service, String(s.instances), String(s.healthy), String(s.malformed)]));
    if (table.rows === 0) message(this.io, 'no services');
  }

  private instanceTable(): StreamingTable {
    const health = this.painter((t) => (t === 'passing' ? this.paint.green : t === 'critical' ? this.paint.red : undefined));
    const note = this.painter((t) => (t === NO_LEASE ? this.paint.yellow : this.paint.red));
    return this.table([
      ...['SERVICE', 'ID', 'ADDRESS'].map((head) => ({ head })),
      { head: 'HEALTH', paint: health },
      ...['TAGS', 'METADATA', 'AGE', ...(this.wide ? ['LEASE', 'TTL', 'CREATE_REV', 'MOD_REV'] : [])].map((head) => ({ head })),
      { head: 'NOTE', paint: note },
    ]);
  }

  private wideCells(entry: InstanceRecord | MalformedEntry): string[] {
    return this.wide ? [entry.lease ?? 'none', ttlText(entry.ttl_left), String(entry.create_revision), String(entry.mod_revision)] : [];
  }

  private instanceRow(i: InstanceRecord): string[] {
    return [
      i.service_name,
      i.service_id,
      hostPort(i.address, i.port),
      healthText(i),
      i.tags.join(',') || '-',
      metaText(i.metadata) || '-',
      age(i.registered_at),
      ...this.wideCells(i),
      // Written without a lease (etcdctl put), it never expires: not what a live registration looks like.
      i.lease === null ? NO_LEASE : '',
    ];
  }

  private malformedRow(m: MalformedEntry): string[] {
    return [m.service ?? '-', m.id ?? m.key, '-', '-', '-', '-', '-', ...this.wideCells(m), `malformed: ${m.problem}`];
  }

  /** The rows of a listing in key order, as etcd returns keys. */
  private rows(listing: InstanceListing, withMalformed: boolean): string[][] {
    const keyed: [string, string[]][] = listing.instances.map((i) => [i.key, this.instanceRow(i)]);
    if (withMalformed) for (const m of listing.malformed) keyed.push([m.key, this.malformedRow(m)]);
    return keyed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
  }

  instances(listing: InstanceListing, withMalformed: boolean): void {
    const table = this.instanceTable();
    table.write(this.rows(listing, withMalformed));
    if (table.rows === 0) message(this.io, 'no instances');
  }

  async streamInstances(pages: AsyncIterable<InstanceListing>): Promise<MalformedEntry[]> {
    const table = this.instanceTable();
    const malformed: MalformedEntry[] = [];
    for await (const page of pages) {
      malformed.push(...page.malformed);
      table.write(this.rows(page, true));
    }
    if (table.rows === 0) message(this.io, 'no instances');
    return malformed;
  }

  /** A PUT's health, and what it was when that changed: a flip is news. */
  private healthChange(now: Instance, before: Instance | null): string {
    const text = healthText(now);
    const was = before ? healthText(before) : text;
    const painted = text === 'passing' ? this.paint.green(text) : text === 'critical' ? this.paint.red(text) : text;
    return was === text ? painted : `${painted} (was ${was})`;
  }

  watchEvent(event: WatchEvent): void {
    if (event.type === 'RESYNC') {
      message(this.io, resyncMessage(event));
      return;
    }
    const who = cellText(event.service && event.id ? `${event.service}/${event.id}` : event.key, false);
    const shown = event.type === 'PUT' ? event.instance : event.prev;
    const parts = [event.type === 'PUT' ? this.paint.green('PUT   ') : this.paint.red('DELETE'), who];
    if (shown) parts.push(cellText(hostPort(shown.address, shown.port), false), this.healthChange(shown, event.type === 'PUT' ? event.prev : null));
    else if (event.problem) parts.push(cellText(`(malformed: ${event.problem})`, false));
    parts.push(`rev=${event.revision}${event.resync ? '  (resync)' : ''}`);
    this.io.stdout.write(`${parts.join('  ')}\n`);
  }

  registration(event: RegistrationEvent): void {
    if (event.event === 'registered') {
      const where = hostPort(event.instance.address, event.instance.port);
      this.io.stdout.write(`${escapeControls(`registered ${event.key} at ${where} (lease ${event.lease}, ttl ${event.ttl}s)`)}\n`);
    } else {
      message(this.io, lifecycleMessage(event)!);
    }
  }

  purgePlan(entries: PurgeEntry[]): void {
    const what = this.painter((t) => (t.startsWith('malformed') ? this.paint.red : undefined));
    this.table([{ head: 'KEY' }, { head: 'WHAT', paint: what }]).write(
      entries.map((e) => [e.key, e.problem ? `malformed: ${e.problem}` : hostPort(e.instance!.address, e.instance!.port)]),
    );
  }

  purgeResult(result: PurgeResult): void {
    for (const e of result.deleted) this.io.stdout.write(`deleted ${escapeControls(e.key)}\n`);
    for (const e of result.skipped) message(this.io, `skipped ${e.key}: it changed after it was listed`);
  }
}
