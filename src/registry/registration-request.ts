/**
 * What a registration asks for, checked before any request: the options, the TTL
 * default, and etcd's limits.
 */
import { UsageError } from './errors.js';
import type { HealthCheckOptions } from './health.js';
import { encodeInstance, isValidPort, type Instance } from './instance.js';

/** What to register. `ttl` is in seconds (default 30). */
export interface RegisterOptions {
  /** Service name: one key segment. */
  service: string;
  /** Instance id, unique within the service: one key segment. */
  id: string;
  /** Address clients should connect to. */
  address: string;
  port: number;
  tags?: string[];
  metadata?: Record<string, unknown>;
  /** Lease TTL in seconds; renewed every TTL/3. */
  ttl?: number;
  /** Take over the key even if another live registration holds it. */
  replace?: boolean;
  /**
   * What to do when the lease is lost: `reregister` (default) with a fresh lease as
   * soon as etcd answers, or `fail`, which emits `failed` with a RegistrationLostError.
   */
  onLost?: 'reregister' | 'fail';
  /**
   * Health checks run by this process. Their result is stored in the value as
   * `health` (critical until the first check passes), with the same lease.
   */
  health?: HealthCheckOptions;
}

/** The seed's lease TTL (it recommends 30 to 60 s). */
export const DEFAULT_TTL_SECONDS = 30;

/** etcd's default limit on one request (`--max-request-bytes`). */
export const ETCD_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

/** Rejects, before any request, what etcd would refuse or what makes no lease. */
export function checkRequest(key: string, instance: Instance, ttl: number): void {
  if (!isValidPort(instance.port)) throw new UsageError(`invalid port ${JSON.stringify(instance.port)}`, 'use a whole number from 1 to 65535');
  if (typeof instance.address !== 'string' || instance.address === '') throw new UsageError('the address is empty');
  if (!Number.isInteger(ttl) || ttl < 1) throw new UsageError(`invalid TTL ${JSON.stringify(ttl)}`, 'use a whole number of seconds, 1 or more');
  // The registering transaction carries the key three times and the value once.
  const size = 3 * Buffer.byteLength(key) + Buffer.byteLength(encodeInstance(instance)) + 1024;
  if (size > ETCD_MAX_REQUEST_BYTES) {
    throw new UsageError(`the instance needs a ${size}-byte request; etcd accepts at most ${ETCD_MAX_REQUEST_BYTES} bytes (1.5 MiB)`, 'store less in --meta and --tag');
  }
}

/** Payload of the `registered` and `reregistered` events. */
export interface RegisteredInfo {
  key: string;
  lease: string;
  ttl: number;
  instance: Instance;
}
