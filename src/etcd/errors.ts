/**
 * The typed errors of talking to etcd (and of input checked before any request). The
 * CLI's `main.ts` maps each class to one documented exit code; library users can branch
 * on them with `instanceof`.
 */
/** Base class of every error svcreg throws on purpose. `hint` is one line of advice. */
export class SvcregError extends Error {
  constructor(message: string, readonly hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Invalid usage or input (a bad name, port, duration...). Detected before any request. */
export class UsageError extends SvcregError {}

/** etcd could not be reached, or did not answer within the deadline. */
export class UnreachableError extends SvcregError {}

/** etcd refused the credentials, or the user lacks permission on the keys. */
export class AuthError extends SvcregError {}

/**
 * etcd refuses writes because an alarm is raised: NOSPACE (the database reached its
 * quota) or CORRUPT. Reads, lease renewals and (under NOSPACE) deletes still work;
 * `hint` says how to clear the alarm.
 */
export class WritesRefusedError extends SvcregError {}

/** etcd does not know the lease: it expired, or was revoked. */
export class LeaseNotFoundError extends SvcregError {}

/** A transaction had more operations than the cluster allows (its --max-txn-ops). */
export class TooManyOperationsError extends SvcregError {}

/** A read or watch asked for a revision etcd has compacted away. */
export class CompactedError extends SvcregError {}

/** A read or watch asked for a revision etcd has not reached. */
export class FutureRevisionError extends SvcregError {}
