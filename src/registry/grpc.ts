/**
 * etcd3's gRPC client for one endpoint: the transport for watch streams, and for
 * endpoints whose JSON gateway is off. etcd3 and gRPC are loaded on first use.
 */
import type { Etcd3, IOptions } from 'etcd3';
import { UnreachableError } from './errors.js';
import { epochDeadline, monotonicMs, withTimer } from './timers.js';
import type { TlsFiles } from './gateway.js';
import type { RangeRequest, RangeResponse, RawKeyValue, Transport, TxnRequest, TxnResponse } from './transport.js';

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/**
 * Replaces etcd3's retry-three-times and per-host circuit-breaker policies: a breaker
 * would block a recovered etcd for 5 s, and Connection does its own failover.
 * etcd3 only ever calls `execute` on them, and expects a promise back.
 */
const singleAttempt = { execute: async (fn: () => unknown) => fn() } as unknown as Policy;

/** What an etcd3 client is built from. */
export interface GrpcSettings {
  tls?: TlsFiles;
  auth?: { username: string; password: string };
  timeoutMs: number;
}

/** The requests of one endpoint, over gRPC. */
export class GrpcTransport implements Transport {
  private constructor(readonly client: Etcd3) {}

  static async open(endpoint: string, settings: GrpcSettings): Promise<GrpcTransport> {
    const { Etcd3 } = await import('etcd3');
    const deadline = () => ({ deadline: epochDeadline(monotonicMs() + settings.timeoutMs) });
    const options: IOptions = {
      hosts: endpoint,
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
    const { cacert, cert, key } = settings.tls ?? {};
    if (cacert) options.credentials = { rootCertificate: cacert, certChain: cert, privateKey: key };
    if (settings.auth) options.auth = { ...settings.auth, callOptions: deadline };
    return new GrpcTransport(new Etcd3(options));
  }

  async range(request: RangeRequest, deadline: number): Promise<RangeResponse> {
    const res = await this.client.kv.range(request, { deadline: epochDeadline(deadline) });
    return { revision: res.header.revision, kvs: res.kvs as RawKeyValue[], more: res.more, count: res.count };
  }

  listPage(request: RangeRequest, deadline: number): Promise<RangeResponse> {
    return this.range(request, deadline);
  }

  async txn(request: TxnRequest, deadline: number): Promise<TxnResponse> {
    const compare = request.compare.map((c) => ({ ...c, result: 'Equal' }));
    const res = await this.client.kv.txn({ ...request, compare } as Parameters<Etcd3['kv']['txn']>[0], { deadline: epochDeadline(deadline) });
    return {
      succeeded: res.succeeded,
      ranges: res.responses.filter((r) => r.response_range).map((r) => r.response_range.kvs as RawKeyValue[]),
    };
  }

  async leaseGrant(ttl: number, deadline: number): Promise<{ id: string; ttl: number }> {
    const res = await this.client.leaseClient.leaseGrant({ TTL: ttl }, { deadline: epochDeadline(deadline) });
    return { id: res.ID, ttl: Number(res.TTL) };
  }

  async leaseRevoke(id: string, deadline: number): Promise<void> {
    await this.client.leaseClient.leaseRevoke({ ID: id }, { deadline: epochDeadline(deadline) });
  }

  async leaseKeepAlive(id: string, deadline: number): Promise<number> {
    const timeout = () => new UnreachableError('keepalive: no answer within the deadline');
    const stream = await withTimer(this.client.leaseClient.leaseKeepAlive(), deadline, timeout);
    try {
      const answer = new Promise<number>((resolve, reject) => {
        stream.on('data', (res: { TTL: string }) => resolve(Number(res.TTL)));
        stream.on('error', reject);
        stream.on('end', () => reject(new UnreachableError('keepalive: stream ended')));
      });
      stream.write({ ID: id });
      const ttl = await withTimer(answer, deadline, timeout);
      // Half-close, and let etcd end the stream: cancelling it would count as a failure
      // in etcd3 and tear down the connection on every renewal.
      stream.end();
      return ttl;
    } catch (err) {
      stream.cancel();
      throw err;
    }
  }

  /** Drops the auth token, so the next request authenticates again (etcd3 never does so for streams). */
  invalidateToken(): void {
    (this.client as unknown as { pool: { authenticator: { invalidateMetadata(): void } } }).pool.authenticator.invalidateMetadata();
  }

  close(): void {
    this.client.close();
  }
}
