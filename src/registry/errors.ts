/**
 * Typed errors thrown by the registry core: the domain's own, beside those of talking
 * to etcd (re-exported from there). The CLI's `main.ts` maps each class to one
 * documented exit code; library users can branch on them with `instanceof`.
 */
import { SvcregError } from '../etcd/errors.js';

export * from '../etcd/errors.js';

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
