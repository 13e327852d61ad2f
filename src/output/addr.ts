/** `-o addr`: one `host:port` per line, for `curl $(svcreg discover web -o addr --pick random)`. */
import { hostPort, UsageError } from '../index.js';
import type { MalformedEntry, InstanceListing } from '../index.js';
import type { Io } from './io.js';
import type { Printer } from './printer.js';

export { hostPort };

export class AddrPrinter implements Printer {
  constructor(private readonly io: Io) {}

  instances(listing: InstanceListing): void {
    for (const i of listing.instances) this.io.stdout.write(`${hostPort(i.address, i.port)}\n`);
  }

  private unsupported(): never {
    throw new UsageError('-o addr only fits commands that print instances', 'use -o table, json or ndjson');
  }
  async streamInstances(pages: AsyncIterable<InstanceListing>): Promise<MalformedEntry[]> {
    const malformed: MalformedEntry[] = [];
    for await (const page of pages) {
      this.instances(page);
      malformed.push(...page.malformed);
    }
    return malformed;
  }

  services = this.unsupported;
  watchEvent = this.unsupported;
  registration = this.unsupported;
  purgePlan = this.unsupported;
  purgeResult = this.unsupported;
}
