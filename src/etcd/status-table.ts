/**
 * The one place where what etcd answered becomes one of svcreg's typed errors. Errors are
 * classified by their gRPC status code (the JSON gateway reports the same codes); where
 * etcd gives nothing better (a code several errors share, a watch's cancel reason, a
 * socket or TLS failure), by their words, here and nowhere else.
 */
import {
  AuthError,
  CompactedError,
  FutureRevisionError,
  LeaseNotFoundError,
  SvcregError,
  TooManyOperationsError,
  UnreachableError,
  WritesRefusedError,
} from './errors.js';
import { EtcdRequestError, GrpcStatus } from './transport.js';

/** Maps an error from either transport, or a watch's cancellation, to svcreg's typed errors; `where` names the endpoints. */
export function translate(err: unknown, what: string, where: string): SvcregError {
  if (err instanceof SvcregError) return err;
  const message = firstLine((err as Error)?.message ?? String(err));
  const prefix = what ? `${what}: ` : '';
  const code = statusCode(err);
  if (
    code === GrpcStatus.PERMISSION_DENIED ||
    code === GrpcStatus.UNAUTHENTICATED ||
    /permission denied|authentication failed|user name (not found|is empty)|auth.*not enabled|invalid auth token|UNAUTHENTICATED/i.test(message)
  ) {
    return new AuthError(`${prefix}${message}`, AUTH_HINT, { cause: err });
  }
  const alarm = raisedAlarm(code, message);
  if (alarm) return new WritesRefusedError(`${prefix}etcd refuses writes: the ${alarm} alarm is raised (${message})`, ALARM_HINTS[alarm], { cause: err });
  // Lease requests are etcd's only NotFound answers.
  if (code === GrpcStatus.NOT_FOUND || /lease not found/i.test(message)) return new LeaseNotFoundError(`${prefix}${message}`, undefined, { cause: err });
  // OutOfRange is shared by the two ends of the history.
  if (/required revision has been compacted/i.test(message)) return new CompactedError(`${prefix}${message}`, undefined, { cause: err });
  if (/required revision is a future revision/i.test(message)) return new FutureRevisionError(`${prefix}${message}`, undefined, { cause: err });
  // InvalidArgument is shared by many errors; this one is a cluster's --max-txn-ops.
  if (/too many operations in txn/i.test(message)) {
    return new TooManyOperationsError(`${prefix}${message}`, "the cluster's --max-txn-ops is below the batch", { cause: err });
  }
  if (
    code === GrpcStatus.CANCELLED ||
    code === GrpcStatus.DEADLINE_EXCEEDED ||
    code === GrpcStatus.UNAVAILABLE ||
    /deadline|unavailable|cancelled|ECONNREFUSED|leader changed|no leader|timed out/i.test(message)
  ) {
    return new UnreachableError(`${prefix}etcd at ${where} is unreachable (${transportReason(message)})`, 'check that etcd is running and --endpoints is right', {
      cause: err,
    });
  }
  return new SvcregError(`${prefix}${message}`, undefined, { cause: err });
}

/**
 * Why a request to one endpoint failed, in words for a place that names the endpoint
 * already (a row of `status`): the transport's reason when etcd is unreachable
 * ("connection refused", "no answer within the deadline", a TLS problem), else the
 * translated message. Takes an error before or after `translate`.
 */
export function failureReason(err: unknown): string {
  const translated = translate(err, '', '');
  const raw = translated === err ? translated.cause : err;
  if (!(translated instanceof UnreachableError) || raw === undefined) return translated.message;
  return transportReason(firstLine((raw as Error)?.message ?? String(raw)));
}

/**
 * The error of a watch etcd cancelled, which comes with words only: a permission denied
 * (an AuthError: retrying cannot help), an expired token (which `isExpiredToken`
 * recognizes, so the next stream authenticates again), or anything else.
 */
export function watchCanceled(reason: string, what: string): Error {
  if (/permission denied/i.test(reason)) return new AuthError(`${what}: ${reason}`, AUTH_HINT);
  const message = `${what}: canceled by etcd: ${reason || 'no reason given'}`;
  if (TOKEN_REJECTED.test(reason)) return new EtcdRequestError(message, GrpcStatus.UNAUTHENTICATED);
  return new Error(message);
}

const AUTH_HINT = 'check --user and SVCREG_PASSWORD, and the role granted on the prefix';

const TOKEN_REJECTED = /invalid auth token|auth token is expired/i;

/** An auth token etcd no longer accepts: authenticating again fixes it. */
export function isExpiredToken(err: unknown): boolean {
  return statusCode(err) === GrpcStatus.UNAUTHENTICATED || TOKEN_REJECTED.test((err as Error)?.message ?? '');
}

/** The gRPC status code of an error from either transport. */
function statusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** How to clear each alarm that makes etcd refuse writes. */
const ALARM_HINTS = {
  NOSPACE: 'free space with `etcdctl compact <revision>` and `etcdctl defrag` (or raise --quota-backend-bytes), then `etcdctl alarm disarm`',
  CORRUPT: "a member's data differs from the others' (`etcdctl alarm list` names it): replace it from a snapshot, then `etcdctl alarm disarm`",
} as const;

/** The alarm behind a refused write, if that is what the error is. */
function raisedAlarm(code: number | undefined, message: string): keyof typeof ALARM_HINTS | undefined {
  // etcd's rate limit and gRPC's message size limit share NOSPACE's status code.
  if (code === GrpcStatus.RESOURCE_EXHAUSTED ? !/too many requests|larger than max/i.test(message) : /database space exceeded/i.test(message)) return 'NOSPACE';
  if (code === GrpcStatus.DATA_LOSS || /corrupt cluster/i.test(message)) return 'CORRUPT';
  return undefined;
}

function firstLine(message: string): string {
  return message.split('\n')[0];
}

/** Transport failures, said plainly: "connection refused", "no answer within the deadline". */
function transportReason(message: string): string {
  // An alert is what the server sent back about our certificate (etcd 3.5 says "unknown ca", 3.4 "bad certificate").
  if (/alert (bad certificate|unknown ca|certificate unknown|handshake failure)|certificate required/i.test(message)) return 'TLS: etcd rejected the client certificate (check --cert and --key)';
  if (/self.signed|unable to (verify|get local issuer)|certificate verify failed|unknown ca/i.test(message)) return 'TLS: the server certificate is not signed by --cacert';
  if (/wrong version number|packet length too long|http_request/i.test(message)) return 'TLS: the endpoint does not speak TLS (use http://)';
  // etcd closes a plain connection to its TLS port without a word.
  if (/socket hang up|closed without an answer/.test(message)) return 'etcd closed the connection without answering; if it serves TLS, use https:// with --cacert';
  if (/SSL routines|TLS|certificate/i.test(message)) return `TLS handshake failed (${/:([a-z][^:]*):[^:]*$/i.exec(message)?.[1] ?? 'see --debug'})`;
  if (/ECONNREFUSED/.test(message)) return 'connection refused';
  if (/deadline/i.test(message)) return 'no answer within the deadline';
  if (/ENOTFOUND|EAI_AGAIN/.test(message)) return 'host name not found';
  return message;
}
