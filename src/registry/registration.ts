/**
 * One live registration: a lease, the instance key bound to it, the keepalive that
 * renews it every TTL/3, re-registration when the lease is lost, and the revoke
 * that removes the key at once on deregister. etcd3's own Lease never re-grants a
 * lost lease and only notices the loss after 2×TTL, so this drives the Lease RPCs.
 */
import { EventEmitter } from 'node:events';
import type { Connection } from '../etcd/connection.js';
import { leaseHex } from './entry.js';
import { AlreadyRegisteredError, LeaseNotFoundError, RegistrationLostError, UnreachableError } from './errors.js';
import { DEFAULT_CHECK_FAILURES, DEFAULT_CHECK_INTERVAL_MS, hasChecks, runChecks, type Health, type HealthCheckOptions } from './health.js';
import { encodeInstance, type Instance } from './instance.js';
import { checkRequest, DEFAULT_TTL_SECONDS, type RegisteredInfo, type RegisterOptions } from './registration-request.js';
import { backoffMs, monotonicMs, sleep } from '../etcd/timers.js';

export { DEFAULT_TTL_SECONDS, ETCD_MAX_REQUEST_BYTES } from './registration-request.js';
export type { RegisteredInfo, RegisterOptions } from './registration-request.js';

/** Retries while renewing or re-registering are at most this far apart, so a
 * registration is restored within about a second of etcd answering again. */
const RETRY_CAP_MS = 1000;

function newHealth(status: Health['status'], output: string): Health {
  return { status, output, checked_at: Date.now() / 1000 };
}

/**
 * Events: `reregistered` (RegisteredInfo) after a lost lease was replaced;
 * `lost` ({ key, lease, reason }) when the lease expired or could not be renewed for a TTL;
 * `retrying` ({ error, attempt }) on each failed renewal (callers throttle their logging);
 * `failed` (Error) when the registration cannot be restored (another owner took the key);
 * `health` (Health) once etcd holds a new health: the first check's result, then each change of status;
 * `deregistered` ({ key }) after the lease was revoked.
 */
export class Registration extends EventEmitter {
  /** Lease id in hex, as etcdctl prints it. */
  get lease(): string {
    return leaseHex(this.leaseId)!;
  }
  /** The TTL etcd granted, in seconds. */
  ttl = 0;
  private leaseId = '0';
  /** Every lease this registration was granted and has not revoked: a key held by one is ours. */
  private readonly granted = new Set<string>();
  private readonly stop = new AbortController();
  private loop: Promise<void> | undefined;
  private writes: Promise<void> = Promise.resolve();
  /** The health etcd is known to hold with our lease (what the checks concluded is `instance.health`). */
  private stored: Health | undefined;
  private readonly stopChecks = new AbortController();
  private deregistering: Promise<void> | undefined;
  private readonly keyBytes: Buffer;

  private constructor(
    private readonly conn: Connection,
    readonly key: string,
    readonly instance: Instance,
    private readonly requestedTtl: number,
    private readonly replace: boolean,
    private readonly onLost: 'reregister' | 'fail',
  ) {
    super();
    this.keyBytes = Buffer.from(key);
  }

  /** @internal Grants the lease and writes the key; resolves once the key is written. */
  static async start(conn: Connection, key: string, options: RegisterOptions): Promise<Registration> {
    const instance: Instance = {
      service_id: options.id,
      service_name: options.service,
      address: options.address,
      port: options.port,
      tags: options.tags ?? [],
      metadata: options.metadata ?? {},
      registered_at: Date.now() / 1000,
    };
    if (hasChecks(options.health)) instance.health = newHealth('critical', 'no check has run yet');
    const ttl = options.ttl ?? DEFAULT_TTL_SECONDS;
    checkRequest(key, instance, ttl);
    const reg = new Registration(conn, key, instance, ttl, options.replace ?? false, options.onLost ?? 'reregister');
    await reg.acquire(undefined);
    reg.loop = reg.keepAlive();
    if (hasChecks(options.health)) void reg.check(options.health);
    return reg;
  }

  /** What the last check concluded, when checks run (etcd may not hold it yet). */
  get health(): Health | undefined {
    return this.instance.health as Health | undefined;
  }

  /**
   * Stops the health checks and marks the instance critical, so discover stops
   * returning it at once (the first step of a drain). Resolves once written; if the
   * write fails, it rejects and the write is retried after each renewal.
   */
  async markCritical(reason: string): Promise<void> {
    this.stopChecks.abort();
    this.instance.health = newHealth('critical', reason);
    await this.syncHealth();
  }

  /**
   * Runs the checks every interval. The first result, and every change of status, is
   * the health etcd must hold; each round also retries a write that failed.
   */
  private async check(options: HealthCheckOptions): Promise<void> {
    const signal = this.stopChecks.signal;
    const threshold = options.failures ?? DEFAULT_CHECK_FAILURES;
    let failures = 0;
    let first = true;
    while (!signal.aborted && !this.stop.signal.aborted) {
      const result = await runChecks(options);
      if (signal.aborted || this.stop.signal.aborted) return;
      failures = result.ok ? 0 : failures + 1;
      const current = this.health!.status;
      // Critical until the first pass; once passing, critical only after `threshold` failures in a row.
      const next = result.ok ? 'passing' : current === 'passing' && failures < threshold ? 'passing' : 'critical';
      if (first || next !== current) this.instance.health = newHealth(next, result.output);
      first = false;
      await this.syncHealth().catch(() => undefined);
      await sleep(options.intervalMs ?? DEFAULT_CHECK_INTERVAL_MS, signal);
    }
  }

  /**
   * Writes the current health, under the same lease and only if the key is still
   * ours, unless etcd is known to hold it already. Writes go one at a time and each
   * sends the health current when it starts, so a later status never loses to an earlier one.
   */
  private syncHealth(): Promise<void> {
    const write = this.writes.then(() => (this.stored === this.health ? undefined : this.writeHealth()));
    this.writes = write.catch(() => undefined);
    return write;
  }

  private async writeHealth(): Promise<void> {
    const health = this.health;
    const lease = this.leaseId;
    const put = this.putRequest(lease);
    // If the key is not ours now, a re-registration will write the current health with it.
    const res = await this.conn.call('write health', (t, deadline) => t.txn({ compare: [{ key: this.keyBytes, target: 'Lease', lease }], success: [put] }, deadline));
    if (!res.succeeded) return;
    this.stored = health;
    this.emit('health', health);
  }

  /** What `registered` / `reregistered` report. */
  info(): RegisteredInfo {
    return { key: this.key, lease: this.lease, ttl: this.ttl, instance: this.instance };
  }

  /** Stops renewing and revokes the lease, so the key disappears at once. Safe to call twice. */
  deregister(): Promise<void> {
    this.deregistering ??= (async () => {
      this.stop.abort();
      // A check in progress is left to finish on its own: it writes nothing once stopped.
      this.stopChecks.abort();
      await this.loop;
      try {
        await this.conn.call('revoke lease', (t, deadline) => t.leaseRevoke(this.leaseId, deadline));
      } catch (err) {
        // A lease that is already gone has removed its key: that is what we wanted.
        if (!(err instanceof LeaseNotFoundError)) throw err;
      }
      this.emit('deregistered', { key: this.key });
    })();
    return this.deregistering;
  }

  /**
   * Grants a fresh lease and writes the key with it, only if the key is absent, or
   * held by `staleLease` (our own earlier lease, which etcd may have kept alive), or
   * `replace` is set.
   */
  private async acquire(staleLease: string | undefined): Promise<void> {
    const grant = await this.conn.call('grant lease', (t, deadline) => t.leaseGrant(this.requestedTtl, deadline));
    this.granted.add(grant.id);
    try {
      await this.claim(grant.id, grant.ttl, staleLease);
    } catch (err) {
      // A write whose answer was lost may still have committed: revoking the lease
      // removes such a key, instead of leaving one no registrant owns.
      await this.revoke(grant.id);
      throw err;
    }
  }

  /** Writes the key bound to `lease`, if it is absent or held by `staleLease` (or `replace`). */
  private async claim(lease: string, ttl: number, staleLease: string | undefined): Promise<void> {
    const key = this.keyBytes;
    const put = this.putRequest(lease);
    const health = this.health;
    for (let attempt = 0; attempt < 5; attempt++) {
      const created = await this.conn.call('register', (t, deadline) =>
        t.txn({ compare: [{ key, target: 'Create', create_revision: 0 }], success: [put], failure: [{ request_range: { key } }] }, deadline),
      );
      if (created.succeeded) return this.adopt(lease, ttl, staleLease, health);
      const existing = created.ranges[0][0];
      if (!existing) continue; // deleted in between: try the create again
      if (existing.lease === lease) return this.adopt(lease, ttl, staleLease, health); // our own write, retried
      if (!this.replace && existing.lease !== staleLease && !this.granted.has(existing.lease)) throw new AlreadyRegisteredError(this.key);
      const taken = await this.conn.call('register', (t, deadline) =>
        t.txn({ compare: [{ key, target: 'Mod', mod_revision: existing.mod_revision }], success: [put] }, deadline),
      );
      if (taken.succeeded) return this.adopt(lease, ttl, staleLease, health);
    }
    throw new UnreachableError(`register ${this.key}: the key kept changing; gave up after 5 attempts`);
  }

  /** Makes `lease` ours, with the key written holding `health`. */
  private adopt(lease: string, ttl: number, staleLease: string | undefined, health: Health | undefined): void {
    this.leaseId = lease;
    this.ttl = ttl;
    this.stored = health;
    if (staleLease) void this.revoke(staleLease);
  }

  private async revoke(lease: string): Promise<void> {
    try {
      await this.conn.call('revoke lease', (t, deadline) => t.leaseRevoke(lease, deadline));
      this.granted.delete(lease);
    } catch {
      // Best effort: an unrevoked lease expires by itself within its TTL.
    }
  }

  /** Renews every TTL/3; when renewal fails for a whole TTL or etcd says the lease is gone, re-registers. */
  private async keepAlive(): Promise<void> {
    const signal = this.stop.signal;
    const interval = (this.ttl * 1000) / 3;
    let renewedAt = monotonicMs();
    let failures = 0;
    let lost = false;
    while (!signal.aborted) {
      await sleep(failures === 0 ? interval : Math.min(backoffMs(failures - 1, RETRY_CAP_MS), interval), signal);
      if (signal.aborted) return;
      try {
        if (lost) {
          const stale = this.leaseId;
          await this.acquire(stale);
          lost = false;
          this.emit('reregistered', this.info());
        } else {
          const sentAt = monotonicMs();
          const lease = this.leaseId;
          const renewTimeoutMs = Math.min(this.conn.timeoutMs, Math.max(500, interval));
          const ttlLeft = await this.conn.call('keepalive', (t, deadline) => t.leaseKeepAlive(lease, deadline), renewTimeoutMs);
          const holder = ttlLeft > 0 ? await this.keyHolder() : undefined;
          if (ttlLeft <= 0 || holder === null) {
            lost = true;
            if (this.lose(ttlLeft <= 0 ? 'etcd says the lease has expired' : 'the key was deleted')) return;
            failures = 1; // re-register promptly
            continue;
          }
          if (holder !== this.leaseId && !this.granted.has(holder!)) {
            this.emit('failed', this.takenOver());
            return;
          }
          renewedAt = sentAt;
          // etcd answers: a health write that failed (a drain's, say, with no checks left to retry it) goes again.
          void this.syncHealth().catch(() => undefined);
        }
        failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof AlreadyRegisteredError) {
          this.emit('failed', this.takenOver());
          return;
        }
        failures++;
        this.emit('retrying', { error: err as Error, attempt: failures });
        if (!lost && monotonicMs() - renewedAt >= this.ttl * 1000) {
          lost = true;
          if (this.lose(`no renewal for ${this.ttl}s, last error: ${(err as Error).message}`)) return;
        }
      }
    }
  }

  private takenOver(): RegistrationLostError {
    return new RegistrationLostError(
      `registration lost: ${this.key} was taken over: it is now held by another registrant; this one stopped and left the key to it`,
      'give each registrant its own --id; --replace is for taking over a key whose registrant is gone',
    );
  }

  /** The stored value, as of now (health included), bound to `lease`. */
  private putRequest(lease: string) {
    return { request_put: { key: this.keyBytes, value: Buffer.from(encodeInstance(this.instance)), lease } };
  }

  /** Reports a lost lease; returns true when the registration gives up (`onLost: 'fail'`). */
  private lose(reason: string): boolean {
    this.emit('lost', { key: this.key, lease: this.lease, reason });
    if (this.onLost === 'reregister') return false;
    this.emit('failed', new RegistrationLostError(`registration lost: ${this.key}: ${reason}`, 'raise --ttl, or check etcd'));
    return true;
  }

  /** The lease our key is bound to now, or null when the key is gone (purged, say). */
  private async keyHolder(): Promise<string | null> {
    const res = await this.conn.call('check key', (t, deadline) => t.range({ key: this.keyBytes, keys_only: true }, deadline));
    return res.kvs.length > 0 ? res.kvs[0].lease : null;
  }
}
