/**
 * Typed errors thrown by the registry core. The CLI's `main.ts` maps each class
 * to one documented exit code; library users can branch on them with `instanceof`.
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

/** Nothing matched, or a wait for instances timed out. */
export class NotFoundError extends SvcregError {}

/** The instance key is already held by a live registration (and `replace` was not set). */
export class AlreadyRegisteredError extends SvcregError {
  constructor(readonly key: string, hint?: string) {
    super(`${key} is already registered`, hint ?? 'pick another --id, or pass --replace to take it over');
  }
}

/** The registration's lease was lost and could not be restored. */
export class RegistrationLostError extends SvcregError {}

/** etcd refused the credentials, or the user lacks permission on the keys. */
export class AuthError extends SvcregError {}

/**
 * etcd refuses writes because an alarm is raised: NOSPACE (the database reached its
 * quota) or CORRUPT. Reads, lease renewals and (under NOSPACE) deletes still work;
 * `hint` says how to clear the alarm.
 */
export class WritesRefusedError extends SvcregError {}
