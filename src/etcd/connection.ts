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
import { SvcregError, UnreachableError, UsageError } from './errors.js';
import { GatewayTransport, type TlsFiles } from './gateway.js';
import type { GrpcTransport, WatchHandlers, WatchStream } from './grpc.js';
import { Deadline } from './deadline.js';
import { isExpiredToken, translate } from './status-table.js';
import { monotonicMs, sleep } from './timers.js';
import { EtcdRequestError, GrpcStatus, NoGatewayError, type Transport } from './transport.js';

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
  async watchStream(handlers: WatchHandlers): Promise<{ stream: WatchStream; endpoint: number; created: Deadline }> {
    const endpoint = this.current;
    const created = this.deadline(monotonicMs() + this.timeoutMs);
    return { stream: (await this.grpc(endpoint)).watch(handlers, created), endpoint, created };
  }

  /**
   * The deadline of every request and of a watch stream's creation: it rejects with what
   * `translate` reports as an unreachable etcd, and aborts the request it was given to.
   */
  deadline(at: number): Deadline {
    return new Deadline(at, () => new EtcdRequestError('no answer within the deadline', GrpcStatus.DEADLINE_EXCEEDED));
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
  async call<T>(what: string, fn: (transport: Transport, deadline: Deadline) => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    const overall = monotonicMs() + timeoutMs;
    const perAttemptMs = this.endpoints.length > 1 ? Math.max(500, Math.floor(timeoutMs / this.endpoints.length)) : timeoutMs;
    for (let attempt = 1; ; attempt++) {
      const endpoint = this.current;
      const deadline = this.deadline(Math.min(overall, monotonicMs() + perAttemptMs));
      try {
        return await this.attempt(endpoint, fn, deadline);
      } catch (err) {
        const translated = this.translate(err, what);
        this.failed(endpoint, err, translated);
        const pause = Math.min(100 * attempt, 500);
        const retryable = translated instanceof UnreachableError || isExpiredToken(err);
        if (!retryable || monotonicMs() + pause >= overall || attempt >= 2 * this.endpoints.length + 1) throw translated;
        await sleep(pause);
      } finally {
        deadline.dispose();
      }
    }
  }

  /**
   * Runs one request on `endpoints[endpoint]` alone, under a deadline of `timeoutMs`:
   * no failover, for what is asked of every endpoint in turn (`status`). Errors are
   * translated as `call` translates them, naming that endpoint; a token etcd no longer
   * accepts is replaced once.
   */
  async callOn<T>(endpoint: number, what: string, fn: (transport: Transport, deadline: Deadline) => Promise<T>): Promise<T> {
    const deadline = this.deadline(monotonicMs() + this.timeoutMs);
    try {
      for (let retried = false; ; retried = true) {
        try {
          return await this.attempt(endpoint, fn, deadline);
        } catch (err) {
          if (isExpiredToken(err) && !retried) continue;
          const translated = translate(err, what, this.endpoints[endpoint]);
          this.failed(endpoint, err, translated);
          throw translated;
        }
      }
    } finally {
      deadline.dispose();
    }
  }

  /** `fn` on the endpoint's JSON gateway, or on its gRPC once it turns out to have no gateway. */
  private async attempt<T>(endpoint: number, fn: (transport: Transport, deadline: Deadline) => Promise<T>, deadline: Deadline): Promise<T> {
    if (!this.noGateway[endpoint]) {
      try {
        return await deadline.race(fn(this.gateway(endpoint), deadline));
      } catch (err) {
        if (!(err instanceof NoGatewayError)) throw err;
        this.noGateway[endpoint] = true;
      }
    }
    return deadline.race(this.grpc(endpoint).then((transport) => fn(transport, deadline)));
  }

  /** Maps an error from either transport to svcreg's typed errors (status-table.ts). */
  translate(err: unknown, what: string): SvcregError {
    return translate(err, what, this.endpoints.join(','));
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
