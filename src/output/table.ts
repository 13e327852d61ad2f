/** Tables and lines for people: the default output. */
import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { InstanceRecord, MalformedEntry } from '../registry/entry.js';
import type { InstanceListing, PurgeEntry, PurgeResult, ServiceListing } from '../registry/registry.js';
import type { WatchEvent } from '../registry/watch.js';
import { hostPort } from './addr.js';
import { message, type Io } from './io.js';
import { collectPages, lifecycleMessage, resyncMessage, type Printer, type RegistrationEvent } from './printer.js';

const BORDERLESS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '',
  right: '', 'right-mid': '', middle: '  ',
};

/** How long ago `seconds` (epoch) was: 42s, 5m, 3h, 2d. */
export function age(seconds: number, now = Date.now() / 1000): string {
  const d = Math.max(0, Math.floor(now - seconds));
  if (d < 120) return `${d}s`;
  if (d < 7200) return `${Math.floor(d / 60)}m`;
  if (d < 172_800) return `${Math.floor(d / 3600)}h`;
  return `${Math.floor(d / 86_400)}d`;
}

function metaText(metadata: Record<string, unknown>): string {
  return Object.entries(metadata)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(',');
}

export class TablePrinter implements Printer {
  private constructor(
    private readonly io: Io,
    private readonly paint: ChalkInstance,
  ) {}

  static create(io: Io): TablePrinter {
    return new TablePrinter(io, new Chalk({ level: io.color ? 1 : 0 }));
  }

  private table(head: string[], rows: string[][]): void {
    const table = new Table({ head: head.map((h) => this.paint.bold(h)), chars: BORDERLESS, style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 } });
    table.push(...rows);
    // cli-table3 pads the last column too; trailing spaces are noise in a pipe.
    this.io.stdout.write(`${table.toString().split('\n').map((l) => l.trimEnd()).join('\n')}\n`);
  }

  services(listing: ServiceListing): void {
    const withMalformed = listing.services.some((s) => s.malformed > 0);
    const head = withMalformed ? ['SERVICE', 'INSTANCES', 'HEALTHY', 'MALFORMED'] : ['SERVICE', 'INSTANCES', 'HEALTHY'];
    this.table(
      head,
      listing.services.map((s) => [s.service, String(s.instances), String(s.healthy), ...(withMalformed ? [String(s.malformed)] : [])]),
    );
  }

  instances(listing: InstanceListing, withMalformed: boolean): void {
    // A HEALTH column only when some instance runs checks: the seed's instances have none.
    const withHealth = listing.instances.some((i) => i.health !== undefined);
    const health = (i: InstanceRecord) => {
      const status = (i.health as { status?: string } | undefined)?.status ?? '-';
      return status === 'passing' ? this.paint.green(status) : status === '-' ? status : this.paint.red(status);
    };
    const rows: [string, string[]][] = listing.instances.map((i: InstanceRecord) => [
      i.key,
      [i.service_name, i.service_id, hostPort(i.address, i.port), ...(withHealth ? [health(i)] : []), i.tags.join(','), metaText(i.metadata), age(i.registered_at)],
    ]);
    if (withMalformed) {
      for (const m of listing.malformed as MalformedEntry[]) {
        rows.push([m.key, [m.service ?? '?', m.id ?? m.key, this.paint.red('MALFORMED'), ...(withHealth ? [''] : []), m.problem, '', '']]);
      }
    }
    rows.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const head = ['SERVICE', 'ID', 'ADDRESS', ...(withHealth ? ['HEALTH'] : []), 'TAGS', 'METADATA', 'AGE'];
    this.table(head, rows.map(([, r]) => r));
  }

  async streamInstances(pages: AsyncIterable<InstanceListing>): Promise<MalformedEntry[]> {
    const all = await collectPages(pages);
    this.instances(all, true);
    return all.malformed;
  }

  watchEvent(event: WatchEvent): void {
    if (event.type === 'RESYNC') {
      message(this.io, resyncMessage(event));
      return;
    }
    const who = event.service && event.id ? `${event.service}/${event.id}` : event.key;
    const shown = event.type === 'PUT' ? event.instance : event.prev;
    const where = shown ? hostPort(shown.address, shown.port) : event.problem ? `(malformed: ${event.problem})` : '';
    const type = event.type === 'PUT' ? this.paint.green('PUT   ') : this.paint.red('DELETE');
    this.io.stdout.write(`${type}  ${who}  ${where}  rev=${event.revision}${event.resync ? '  (resync)' : ''}\n`);
  }

  registration(event: RegistrationEvent): void {
    if (event.event === 'registered') {
      this.io.stdout.write(`registered ${event.key} at ${hostPort(event.instance.address, event.instance.port)} (lease ${event.lease}, ttl ${event.ttl}s)\n`);
    } else {
      message(this.io, lifecycleMessage(event)!);
    }
  }

  purgePlan(entries: PurgeEntry[]): void {
    this.table(
      ['KEY', 'WHAT'],
      entries.map((e) => [e.key, e.problem ? this.paint.red(`malformed: ${e.problem}`) : hostPort(e.instance!.address, e.instance!.port)]),
    );
  }

  purgeResult(result: PurgeResult): void {
    for (const e of result.deleted) this.io.stdout.write(`deleted ${e.key}\n`);
    for (const e of result.skipped) message(this.io, `skipped ${e.key}: it changed after it was listed`);
  }
}
