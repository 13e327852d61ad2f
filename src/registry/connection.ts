/**
 * The etcd3 client, built from svcreg's options, with the deadlines and error
 * translation that etcd3 does not give by itself (its `dialTimeout` is ignored
 * and its default policy retries a dead endpoint three times).
 * etcd3 and gRPC are loaded here, on first use, so `--help` never pays for them.
 */
import { readFileSync } from 'node:fs';
import type { Etcd3, IOptions } from 'etcd3';
import { sleep } from './backoff.js';
import { AuthError, SvcregError, UnreachableError, UsageError } from './errors.js';

/** etcd's default client URL, as etcdctl assumes it. */
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:2379';
/** Deadline of each request unless `timeoutMs` says otherwise. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** How to reach etcd. File paths or the PEM contents themselves are accepted for TLS. */
export interface ConnectionOptions {
  /** `http://host:port` or `https://host:port` (a bare `host:port` means http). */
  endpoints?: string[];
  /** Deadline of each request, in milliseconds. */
  timeoutMs?: number;
  tls?: { cacert?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
  auth?: { username: string; password: string };
}

/** Parses endpoint URLs; throws a UsageError for anything that is not http(s)://host:port. */
export function parseEndpoints(endpoints: string[]): string[] {
  if (endpoints.length === 0) throw new UsageError('no etcd endpoint given');
  const parsed = endpoints.map((raw) => {
    const text = raw.includes('://') ? raw : `http://${raw}`;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new UsageError(`invalid endpoint ${JSON.stringify(raw)}`, 'use http://host:port or https://host:port');
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname || (url.pathname !== '/' && url.pathname !== '')) {
      throw new UsageError(`invalid endpoint ${JSON.stringify(raw)}`, 'use http://host:port or https://host:port');
    }
    return `${url.protocol}//${url.hostname}:${url.port || '2379'}`;
  });
  const secure = parsed.filter((e) => e.startsWith('https:')).length;
  if (secure > 0 && secure < parsed.length) throw new UsageError('endpoints mix http:// and https://', 'use one scheme for all endpoints');
  return parsed;
}

function pem(value: string | Buffer | undefined, what: string): Buffer | undefined {
  if (value === undefined || Buffer.isBuffer(value)) return value;
  try {
    return readFileSync(value);
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${value}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

type Etcd3Module = typeof import('etcd3');
type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/**
 * Replaces etcd3's retry-three-times and per-host circuit-breaker policies: a breaker
 * would block a recovered etcd for 5 s, and Connection does its own failover.
 * etcd3 only ever calls `execute` on them, and expects a promise back.
 */
const singleAttempt = { execute: async (fn: () => unknown) => fn() } as unknown as Policy;

const GRPC_CANCELLED = 1;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/** Options for one unary request. */
export interface CallOptions {
  deadline: number;
}

/**
 * Clients for etcd, one per endpoint, with per-request deadlines, typed errors and
 * failover: requests go to the current endpoint until it fails or times out, then
 * to the next. (etcd3's own pool picks a random member per call and never marks a
 * frozen member as bad, since a timeout does not count as a failure there.)
 */
export class Connection {
  private readonly clients: (Etcd3 | undefined)[];
  private current = 0;

  private constructor(
    private readonly etcd3: Etcd3Module,
    private readonly clientOptions: Omit<IOptions, 'hosts'>,
    readonly endpoints: string[],
    readonly timeoutMs: number,
  ) {
    this.clients = endpoints.map(() => undefined);
  }

  /** Validates the options and loads etcd3; nothing is sent until the first request. */
  static async open(options: ConnectionOptions): Promise<Connection> {
    const endpoints = parseEndpoints(options.endpoints ?? [DEFAULT_ENDPOINT]);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const secure = endpoints[0].startsWith('https:');
    const { cacert, cert, key } = options.tls ?? {};
    if (!secure && (cacert || cert || key)) {
      throw new UsageError('TLS files given but the endpoints are http://', 'use https:// endpoints with --cacert/--cert/--key');
    }
    if (Boolean(cert) !== Boolean(key)) throw new UsageError('--cert and --key go together');
    const deadline = () => ({ deadline: Date.now() + timeoutMs });
    const clientOptions: Omit<IOptions, 'hosts'> = {
      faultHandling: { global: singleAttempt, host: () => singleAttempt },
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : deadline()),
      grpcOptions: {
        // Large prefix reads must not fail at gRPC's default 4 MB.
        'grpc.max_receive_message_length': -1,
        // Notice half-open connections; etcd accepts pings every 5 s or slower.
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
      },
    };
    if (secure && cacert) {
      clientOptions.credentials = {
        rootCertificate: pem(cacert, 'CA certificate')!,
        certChain: pem(cert, 'client certificate'),
        privateKey: pem(key, 'client key'),
      };
    }
    if (options.auth) clientOptions.auth = { ...options.auth, callOptions: deadline };
    const etcd3: Etcd3Module = await import('etcd3');
    return new Connection(etcd3, clientOptions, endpoints, timeoutMs);
  }

  /** The client of the endpoint requests currently go to. */
  get client(): Etcd3 {
    const i = this.current;
    return (this.clients[i] ??= new this.etcd3.Etcd3({ ...this.clientOptions, hosts: this.endpoints[i] }));
  }

  /**
   * Reports that a request or stream on `client` failed. An unreachable endpoint
   * makes the connection move to the next one (once, however many callers saw it
   * fail); an expired auth token is dropped so the next request authenticates again.
   */
  failed(client: Etcd3, err: unknown, translated = this.translate(err, '')): void {
    if (isExpiredToken(err)) {
      // etcd3 re-authenticates unary calls by itself, but never streams.
      (client as unknown as { pool: { authenticator: { invalidateMetadata(): void } } }).pool.authenticator.invalidateMetadata();
    }
    if (translated instanceof UnreachableError && this.clients[this.current] === client && this.endpoints.length > 1) {
      this.current = (this.current + 1) % this.endpoints.length;
    }
  }

  /**
   * Runs one unary request under an overall deadline of `timeoutMs`, moving to the
   * next endpoint and retrying while time remains when one is unreachable.
   */
  async call<T>(what: string, fn: (client: Etcd3, options: CallOptions) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    const perAttemptMs = this.endpoints.length > 1 ? Math.max(500, Math.floor(this.timeoutMs / this.endpoints.length)) : this.timeoutMs;
    for (let attempt = 1; ; attempt++) {
      const client = this.client;
      const attemptDeadline = Math.min(deadline, Date.now() + perAttemptMs);
      try {
        return await withTimer(fn(client, { deadline: attemptDeadline }), attemptDeadline + 250, () => new UnreachableError(`${what}: no answer from etcd within ${this.timeoutMs} ms`));
      } catch (err) {
        const translated = this.translate(err, what);
        this.failed(client, err, translated);
        const pause = Math.min(100 * attempt, 500);
        const retryable = translated instanceof UnreachableError || isExpiredToken(err);
        if (!retryable || Date.now() + pause >= deadline || attempt >= 2 * this.endpoints.length + 1) throw translated;
        await sleep(pause);
      }
    }
  }

  /** Maps an etcd3 or gRPC error to svcreg's typed errors. */
  translate(err: unknown, what: string): SvcregError {
    if (err instanceof SvcregError) return err;
    const e = this.etcd3;
    const message = firstLine((err as Error)?.message ?? String(err)).replace(/^\d+ [A-Z_]+: /, '');
    const where = this.endpoints.join(',');
    const prefix = what ? `${what}: ` : '';
    if (
      err instanceof e.EtcdAuthenticationFailedError ||
      err instanceof e.EtcdPermissionDeniedError ||
      err instanceof e.EtcdUserNotFoundError ||
      err instanceof e.GRPCUnauthenticatedError ||
      /permission denied|authentication failed|user name not found|auth.*not enabled/i.test(message)
    ) {
      return new AuthError(`${prefix}${message}`, 'check --user and SVCREG_PASSWORD, and the role granted on the prefix', { cause: err });
    }
    // Stream errors arrive as plain gRPC errors: judge them by their status code.
    const code = (err as { code?: unknown })?.code;
    if (
      err instanceof e.GRPCUnavailableError ||
      err instanceof e.GRPCDeadlineExceededError ||
      err instanceof e.GRPCCancelledError ||
      err instanceof e.ClientClosedError ||
      code === GRPC_CANCELLED ||
      code === GRPC_DEADLINE_EXCEEDED ||
      code === GRPC_UNAVAILABLE ||
      /deadline|unavailable|ECONNREFUSED|No connection established|failed to connect|leader changed|no leader|timed out/i.test(message)
    ) {
      return new UnreachableError(`${prefix}etcd at ${where} is unreachable (${grpcReason(message)})`, 'check that etcd is running and --endpoints is right', { cause: err });
    }
    return new SvcregError(`${prefix}${message}`, undefined, { cause: err });
  }

  close(): void {
    for (const c of this.clients) c?.close();
  }
}

/** An auth token etcd no longer accepts: authenticating again fixes it. */
function isExpiredToken(err: unknown): boolean {
  return /invalid auth token|auth token is expired/i.test((err as Error)?.message ?? '');
}

function firstLine(message: string): string {
  return message.split('\n')[0];
}

/** gRPC's transport messages, said plainly: "connection refused", "no answer within the deadline". */
function grpcReason(message: string): string {
  if (/alert bad certificate|certificate required|alert handshake failure/i.test(message)) return 'TLS: etcd rejected the client certificate (check --cert and --key)';
  if (/self.signed|unable to (verify|get local issuer)|certificate verify failed|unknown ca/i.test(message)) return 'TLS: the server certificate is not signed by --cacert';
  if (/wrong version number|packet length too long|http_request/i.test(message)) return 'TLS: the endpoint does not speak TLS (use http://)';
  if (/SSL routines|TLS|certificate/i.test(message)) return `TLS handshake failed (${/:([a-z][^:]*):[^:]*$/i.exec(message)?.[1] ?? 'see --debug'})`;
  if (/ECONNREFUSED/.test(message)) return 'connection refused';
  if (/deadline/i.test(message)) return 'no answer within the deadline';
  if (/ENOTFOUND|EAI_AGAIN/.test(message)) return 'host name not found';
  return message.replace(/\s*Resolution note:.*$/, '');
}

/** Rejects with `onTimeout()` if `promise` has not settled by the `at` timestamp. */
export function withTimer<T>(promise: Promise<T>, at: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), Math.max(0, at - Date.now()));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
