/**
 * The printer interface: one method per kind of result, one implementation per
 * output format (etcdctl's split between commands and printers).
 */
import type { InstanceListing, PurgeEntry, PurgeResult, ServiceListing } from '../registry/registry.js';
import type { RegisteredInfo } from '../registry/registration.js';
import type { WatchEvent } from '../registry/watch.js';
import type { OutputFormat } from '../parse.js';
import type { Io } from './io.js';

/** A registrant's lifecycle, as `register` reports it. */
export type RegistrationEvent =
  | ({ event: 'registered' | 'reregistered' } & RegisteredInfo)
  | { event: 'lost'; key: string; lease: string; reason: string }
  | { event: 'deregistered'; key: string };

export interface Printer {
  services(listing: ServiceListing): void;
  /** `withMalformed`: list malformed entries beside the instances (list --instances). */
  instances(listing: InstanceListing, withMalformed: boolean): void;
  watchEvent(event: WatchEvent): void;
  registration(event: RegistrationEvent): void;
  purgePlan(entries: PurgeEntry[]): void;
  purgeResult(result: PurgeResult): void;
}

export async function printerFor(format: OutputFormat, io: Io): Promise<Printer> {
  switch (format) {
    case 'json':
      return new (await import('./json.js')).JsonPrinter(io, false);
    case 'ndjson':
      return new (await import('./json.js')).JsonPrinter(io, true);
    case 'addr':
      return new (await import('./addr.js')).AddrPrinter(io);
    case 'table':
      return (await import('./table.js')).TablePrinter.create(io);
  }
}
