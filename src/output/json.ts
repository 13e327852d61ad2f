/**
 * The JSON contract's values (README: JSON output), in the data format -o chose: one
 * JSON document (`-o json`), one object per line (`-o ndjson`), YAML, or a template's
 * text. Streams (watch events, registration events) are one value at a time: a JSON
 * line, a YAML document, the template once.
 */
import type { InstanceRecord, MalformedEntry, InstanceListing, PurgeEntry, PurgeResult, ServiceListing, WatchEvent } from '../index.js';
import { itemsWriter, writeDocument, writeItems, writeLine, type DataFormat } from './data.js';
import { message, type Io } from './io.js';
import { lifecycleMessage, resyncMessage, type Printer, type RegistrationEvent } from './printer.js';

/** The contract's watch fields, then the extras. */
export function watchEventJson(event: WatchEvent): Record<string, unknown> {
  if (event.type === 'RESYNC') return { ...event };
  const { type, key, service, id, revision, instance, prev, problem, resync, record } = event;
  return { type, key, service, id, revision, instance, prev, lease: record?.lease ?? null, ...(problem && { problem }), ...(resync && { resync }) };
}

export class JsonPrinter implements Printer {
  constructor(
    private readonly io: Io,
    private readonly format: DataFormat,
  ) {}

  private line(value: unknown): void {
    writeLine(this.io, value, this.format);
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
    const list = itemsWriter(this.io, this.format);
    for await (const page of pages) {
      malformed.push(...page.malformed);
      list.write(withMalformedByKey(page));
    }
    list.end();
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

/** Instances and malformed entries in one list, in key order: what `list --instances -o json` prints. */
export function withMalformedByKey(listing: InstanceListing): (InstanceRecord | MalformedEntry)[] {
  // Each list is in key order already; most pages have nothing malformed to merge in.
  if (listing.malformed.length === 0) return listing.instances;
  return [...listing.instances, ...listing.malformed].sort((a, b) => (a.key < b.key ? -1 : 1));
}

function purgeJson(entry: PurgeEntry): Record<string, unknown> {
  const { instance: _instance, ...rest } = entry;
  return rest;
}
