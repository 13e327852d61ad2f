/**
 * JSON (`-o json`: one document) and NDJSON (`-o ndjson`: one object per line).
 * Streams (watch events, registration events) are always one object per line.
 */
import type { InstanceRecord, MalformedEntry, InstanceListing, PurgeEntry, PurgeResult, ServiceListing, WatchEvent } from '../index.js';
import { jsonText as json, writeDocument, writeItems, writeLine, type DataFormat } from './data.js';
import { message, type Io } from './io.js';
import { lifecycleMessage, resyncMessage, type Printer, type RegistrationEvent } from './printer.js';

/** The contract's watch fields, then the extras. */
export function watchEventJson(event: WatchEvent): Record<string, unknown> {
  if (event.type === 'RESYNC') return { ...event };
  const { type, key, service, id, revision, instance, prev, problem, resync, record } = event;
  return { type, key, service, id, revision, instance, prev, lease: record?.lease ?? null, ...(problem && { problem }), ...(resync && { resync }) };
}

export class JsonPrinter implements Printer {
  private readonly lines: boolean;

  constructor(
    private readonly io: Io,
    private readonly format: DataFormat,
  ) {
    this.lines = format === 'ndjson';
  }

  private line(value: unknown): void {
    writeLine(this.io, value);
  }

  private document(items: unknown[]): void {
    writeItems(this.io, this.format, items);
  }

  services(listing: ServiceListing): void {
    this.document(listing.services);
  }

  instances(listing: InstanceListing, withMalformed: boolean): void {
    this.document(withMalformed ? withMalformedByKey(listing) : listing.instances);
  }

  async streamInstances(pages: AsyncIterable<InstanceListing>): Promise<MalformedEntry[]> {
    const malformed: MalformedEntry[] = [];
    let first = true;
    for await (const page of pages) {
      malformed.push(...page.malformed);
      const items = withMalformedByKey(page);
      if (items.length === 0) continue;
      // One write per page: a write per element costs a system call each.
      if (this.lines) {
        this.io.stdout.write(items.map((item) => `${json(item)}\n`).join(''));
      } else {
        // The same text JSON.stringify(all, null, 2) would give: each page's array without its brackets.
        const text = json(items, 2);
        this.io.stdout.write(`${first ? '[\n' : ',\n'}${text.slice(2, -2)}`);
        first = false;
      }
    }
    if (!this.lines) this.io.stdout.write(first ? '[]\n' : '\n]\n');
    return malformed;
  }

  watchEvent(event: WatchEvent): void {
    this.line(watchEventJson(event));
    if (event.type === 'RESYNC') message(this.io, resyncMessage(event));
  }

  registration(event: RegistrationEvent): void {
    this.line(event);
    // Losing the lease is news for the operator too, not only for the script reading stdout.
    if (event.event === 'lost' || event.event === 'reregistered' || event.event === 'health') message(this.io, lifecycleMessage(event)!);
  }

  purgePlan(entries: PurgeEntry[]): void {
    this.document(entries.map(purgeJson));
  }

  purgeResult(result: PurgeResult): void {
    writeDocument(this.io, this.format, { deleted: result.deleted.map(purgeJson), skipped: result.skipped.map(purgeJson) });
  }
}

function withMalformedByKey(listing: InstanceListing): (InstanceRecord | MalformedEntry)[] {
  return [...listing.instances, ...listing.malformed].sort((a, b) => (a.key < b.key ? -1 : 1));
}

function purgeJson(entry: PurgeEntry): Record<string, unknown> {
  const { instance: _instance, ...rest } = entry;
  return rest;
}
