/**
 * What `render`'s template sees: the registry as services, each with its passing
 * instances and all of them, from one consistent listing. Everything is sorted (services
 * by name, instances by id), so the rendered text changes only when the registry does.
 */
import type { InstanceRecord } from './entry.js';
import { isPassing } from './health.js';
import { hostPort } from './instance.js';
import type { InstanceListing } from './listing.js';

/** An instance as the template sees it: the listed fields, plus `id` and `addr`. */
export type RenderInstance = InstanceRecord & {
  /** The instance id (service_id). */
  id: string;
  /** `host:port`, an IPv6 address in brackets. */
  addr: string;
};

export interface RenderService {
  name: string;
  /** The passing instances (no health, or health passing), sorted by id. */
  instances: RenderInstance[];
  /** Every valid instance, passing or not, sorted by id; each has its `health` as stored. */
  all: RenderInstance[];
}

export interface RenderModel {
  prefix: string;
  /** The revision the listing was read at. */
  revision: number;
  /** Sorted by name. */
  services: RenderService[];
  /** The same services by name: `service["user-service"].instances`. */
  service: Record<string, RenderService>;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The model of `listing` (its malformed entries are not in it: the caller reports them). */
export function renderModel(prefix: string, listing: InstanceListing): RenderModel {
  const byName = new Map<string, RenderService>();
  for (const record of listing.instances) {
    let service = byName.get(record.service_name);
    if (!service) byName.set(record.service_name, (service = { name: record.service_name, instances: [], all: [] }));
    const instance: RenderInstance = { ...record, id: record.service_id, addr: hostPort(record.address, record.port) };
    service.all.push(instance);
    if (isPassing(record)) service.instances.push(instance);
  }
  const services = [...byName.values()].sort((a, b) => byText(a.name, b.name));
  for (const s of services) {
    s.all.sort((a, b) => byText(a.id, b.id));
    s.instances.sort((a, b) => byText(a.id, b.id));
  }
  // A null prototype: a service named "constructor" or "__proto__" is just a name.
  const service: Record<string, RenderService> = Object.create(null);
  for (const s of services) service[s.name] = s;
  return { prefix, revision: listing.revision, services, service };
}
