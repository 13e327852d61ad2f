/**
 * How svcreg reaches etcd: endpoints, TLS and auth from its options, and the
 * deadlines, failover and error translation of every request. Each endpoint has two
 * transports behind one interface: its JSON gateway (gateway.ts) for unary requests,
 * and gRPC over http2 (grpc.ts) for watch streams, large listings and endpoints
 * without the gateway. The gRPC code and http2 load only when first needed, so
 * one-shot commands never pay for them.
 */
import { readFileSync } from 'node:fs';
import { AuthToken, type Credentials } from './auth-token.js';
import { DEFAULT_ENDPOINT, DEFAULT_TIMEOUT_MS, parseEndpoints } from './endpoints.js';
import { AuthError, SvcregError, UnreachableError, UsageError, WritesRefusedError } from './errors.js';
import { GatewayTransport, type TlsFiles } from './gateway.js';
import type { GrpcTransport, WatchHandlers, WatchStream } from './grpc.js';
import { monotonicMs, sleep, withTimer } from './timers.js';
import { GrpcStatus, NoGatewayError, type Transport } from './transport.js';

/** How to reach etcd. File paths or the PEM contents themselves are accepted for TLS. */
export interface ConnectionOptions {
  /** `http://host:port` or `https://host:port` (a bare `host:port` means http). */
  endpoints?: string[];
  /** Deadline of each request, in milliseconds. */
  timeoutMs?: number;
  tls?: { cacert?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
  auth?: Credentials;
}

function pem(value: string | Buffer | undefined, what: string): Buffer | undefined {
  if (value === undefined || Buffer.isBuffer(value)) return value;
  try {
    return readFileSync(value);
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${value}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

/**
 * Requests to etcd, with per-request deadlines, typed errors and failover: requests
 * go to the current endpoint until it fails or times out, then to the next. Each
 * endpoint is spoken to through its JSON gateway, or through gRPC once it turns out
 * to have none; watch streams always use gRPC.
 */
export class Connection {
  private readonly gateways: (GatewayTransport | undefined)[];
  private readonly grpcs: (Promise<GrpcTransport> | undefined)[];
  /** Each endpoint's auth token, shared by its two transports; none when auth is off. */
  private readonly tokens: (AuthToken | undefined)[];
  /** Endpoints found to have no JSON gateway. */
  private readonly noGateway: boolean[];
  private current = 0;

  private constructor(
    private readonly tls: TlsFiles | undefined,
    auth: Credentials | undefined,
    readonly endpoints: string[],
    readonly timeoutMs: number,
  ) {
    this.gateways = endpoints.map(() => undefined);
    this.grpcs = endpoints.map(() => undefined);
    this.tokens = endpoints.map(() => auth && new AuthToken(auth, isExpiredToken));
    this.noGateway = endpoints.map(() => false);
  }

  /** Validates the options and reads TLS files; nothing is sent until the first request. */
  static async open(options: ConnectionOptions): Promise<Connection> {
    const endpoints = parseEndpoints(options.endpoints ?? [DEFAULT_ENDPOINT]);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const secure = endpoints[0].startsWith('https:');
    const { cacert, cert, key } = options.tls ?? {};
    if (!secure && (cacert || cert || key)) {
      throw new UsageError('TLS files given but the endpoints are http://', 'use https:// endpoints with --cacert/--cert/--key');
    }
    if (Boolean(cert) !== Boolean(key)) throw new UsageError('--cert and --key go together');
    const tls = secure ? { cacert: pem(cacert, 'CA certificate'), cert: pem(cert, 'client certificate'), key: pem(key, 'client key') } : undefined;
    return new Connection(tls, options.auth, endpoints, timeoutMs);
  }

  /**
   * Opens a watch stream, which requires a leader, on the endpoint requests currently
   * go to; `endpoint` is for `failed`. Every failure, connecting and authenticating
   * included, reaches `handlers.error`.
   */
  async watchStream(handlers: WatchHandlers): Promise<{ stream: WatchStream; endpoint: number }> {
    const endpoint = this.current;
    return { stream: (await this.grpc(endpoint)).watch(handlers, this.timeoutMs), endpoint };
  }

  /**
   * Reports that a request or stream on `endpoint` failed. An unreachable endpoint
   * makes the connection move to the next one (once, however many callers saw it
   * fail), and its gRPC session is probed: a blackholed one would otherwise carry every
   * later stream into the void. An expired auth token is dropped so the next request
   * authenticates again.
   */
  failed(endpoint: number, err: unknown, translated = this.translate(err, '')): void {
    if (isExpiredToken(err)) this.tokens[endpoint]?.forget();
    if (translated instanceof UnreachableError) void this.grpcs[endpoint]?.then((g) => g.probe(), () => undefined);
    if (translated instanceof UnreachableError && this.current === endpoint && this.endpoints.length > 1) {
      this.current = (this.current + 1) % this.endpoints.length;
    }
  }

  /**
   * Runs one request under an overall deadline of `timeoutMs`, moving to the next
   * endpoint and retrying while time remains when one is unreachable, and
   * authenticating again when etcd no longer accepts the token.
   */
  async call<T>(what: string, fn: (transport: Transport, deadline: number) => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    const deadline = monotonicMs() + timeoutMs;
    const perAttemptMs = this.endpoints.length > 1 ? Math.max(500, Math.floor(timeoutMs / this.endpoints.length)) : timeoutMs;
    for (let attempt = 1; ; attempt++) {
      const endpoint = this.current;
      const attemptDeadline = Math.min(deadline, monotonicMs() + perAttemptMs);
      try {
        const transport = this.noGateway[endpoint] ? await this.grpc(endpoint) : this.gateway(endpoint);
        return await withTimer(fn(transport, attemptDeadline), attemptDeadline + 250, () => new UnreachableError(`${what}: no answer from etcd within ${timeoutMs} ms`));
      } catch (err) {
        if (err instanceof NoGatewayError && !this.noGateway[endpoint]) {
          this.noGateway[endpoint] = true;
          attempt--;
          continue;
        }
        const translated = this.translate(err, what);
        this.failed(endpoint, err, translated);
        const pause = Math.min(100 * attempt, 500);
        const retryable = translated instanceof UnreachableError || isExpiredToken(err);
        if (!retryable || monotonicMs() + pause >= deadline || attempt >= 2 * this.endpoints.length + 1) throw translated;
        await sleep(pause);
      }
    }
  }

  /** Maps an error from either transport to svcreg's typed errors. */
  translate(err: unknown, what: string): SvcregError {
    if (err instanceof SvcregError) return err;
    const message = firstLine((err as Error)?.message ?? String(err));
    const where = this.endpoints.join(',');
    const prefix = what ? `${what}: ` : '';
    const code = statusCode(err);
    if (
      code === GrpcStatus.PERMISSION_DENIED ||
      code === GrpcStatus.UNAUTHENTICATED ||
      /permission denied|authentication failed|user name (not found|is empty)|auth.*not enabled|invalid auth token|UNAUTHENTICATED/i.test(message)
    ) {
      return new AuthError(`${prefix}${message}`, 'check --user and SVCREG_PASSWORD, and the role granted on the prefix', { cause: err });
    }
    const alarm = raisedAlarm(code, message);
    if (alarm) return new WritesRefusedError(`${prefix}etcd refuses writes: the ${alarm} alarm is raised (${message})`, ALARM_HINTS[alarm], { cause: err });
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

  close(): void {
    for (const g of this.gateways) g?.close();
    for (const g of this.grpcs) void g?.then((t) => t.close(), () => undefined);
  }

  private gateway(endpoint: number): GatewayTransport {
    return (this.gateways[endpoint] ??= new GatewayTransport(this.endpoints[endpoint], this.tls, this.tokens[endpoint], () => this.grpc(endpoint)));
  }

  private grpc(endpoint: number): Promise<GrpcTransport> {
    // Loaded on first use: discover and registrants on the gateway never need it.
    return (this.grpcs[endpoint] ??= import('./grpc.js').then(({ GrpcTransport }) => new GrpcTransport(this.endpoints[endpoint], this.tls, this.tokens[endpoint])));
  }
}

/** The gRPC status code of an error from either transport. */
function statusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * An auth token etcd no longer accepts: authenticating again fixes it. Its status
 * says so; a watch cancelled by etcd gives only the reason's words.
 */
function isExpiredToken(err: unknown): boolean {
  return statusCode(err) === GrpcStatus.UNAUTHENTICATED || /invalid auth token|auth token is expired/i.test((err as Error)?.message ?? '');
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
