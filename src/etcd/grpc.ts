/**
 * The requests of one endpoint over gRPC (grpc-channel.ts): for endpoints whose JSON
 * gateway is off, for the pages of large listings (etcd encodes protobuf several times
 * faster than its gateway encodes JSON), and for watch streams.
 */
import type { AuthToken, Credentials } from './auth-token.js';
import type { Deadline } from './deadline.js';
import type { TlsFiles } from './gateway.js';
import { GrpcChannel, type Metadata } from './grpc-channel.js';
import type { GrpcCall } from './grpc-call.js';
import { decodeRangeResponse, decodeTxnResponse, encodeRangeRequest, encodeTxnRequest } from './kv-messages.js';
import { decodeAuthenticateResponse, decodeLeaseResponse, encodeAuthenticateRequest, encodeLeaseGrantRequest, encodeLeaseIdRequest } from './lease-messages.js';
import { decodeAlarmResponse, decodeStatusResponse, encodeAlarmGetRequest, encodeStatusRequest } from './maintenance-messages.js';
import {
  EtcdRequestError,
  GrpcStatus,
  type MemberStatus,
  type RaisedAlarm,
  type RangeRequest,
  type RangeResponse,
  type Transport,
  type TxnRequest,
  type TxnResponse,
} from './transport.js';
import { decodeWatchResponse, encodeWatchRequest, type WatchRequest, type WatchResponse } from './watch-messages.js';

/** What a watch stream reports: each response, then exactly one of `error` or `end`. */
export interface WatchHandlers {
  data(response: WatchResponse): void;
  error(err: Error): void;
  end(): void;
}

/** A Watch.Watch stream: requests in, decoded responses to its handlers; pausable for backpressure. */
export class WatchStream {
  constructor(private readonly call: GrpcCall) {}

  write(request: WatchRequest): void {
    this.call.write(encodeWatchRequest(request));
  }

  cancel(): void {
    this.call.cancel();
  }

  pause(): void {
    this.call.pause();
  }

  resume(): void {
    this.call.resume();
  }
}

const NO_METADATA: Promise<Metadata> = Promise.resolve({});

/** The requests of one endpoint, over gRPC. */
export class GrpcTransport implements Transport {
  private readonly channel: GrpcChannel;

  /** `token` is the endpoint's auth token, when auth is on (shared with its gateway transport). */
  constructor(
    endpoint: string,
    tls: TlsFiles | undefined,
    private readonly token: AuthToken | undefined,
  ) {
    this.channel = new GrpcChannel(endpoint, tls);
  }

  async range(request: RangeRequest, deadline: Deadline): Promise<RangeResponse> {
    return decodeRangeResponse(await this.unary('/etcdserverpb.KV/Range', encodeRangeRequest(request), deadline));
  }

  listPage(request: RangeRequest, deadline: Deadline): Promise<RangeResponse> {
    return this.range(request, deadline);
  }

  async txn(request: TxnRequest, deadline: Deadline): Promise<TxnResponse> {
    return decodeTxnResponse(await this.unary('/etcdserverpb.KV/Txn', encodeTxnRequest(request), deadline));
  }

  async leaseGrant(ttl: number, deadline: Deadline): Promise<{ id: string; ttl: number }> {
    return decodeLeaseResponse(await this.unary('/etcdserverpb.Lease/LeaseGrant', encodeLeaseGrantRequest(ttl), deadline));
  }

  async leaseTimeToLive(id: string, deadline: Deadline): Promise<number> {
    return decodeLeaseResponse(await this.unary('/etcdserverpb.Lease/LeaseTimeToLive', encodeLeaseIdRequest(id), deadline)).ttl;
  }

  async leaseRevoke(id: string, deadline: Deadline): Promise<void> {
    await this.unary('/etcdserverpb.Lease/LeaseRevoke', encodeLeaseIdRequest(id), deadline);
  }

  /** One renewal on a stream of its own, cancelled once answered: nothing to keep open between renewals. */
  leaseKeepAlive(id: string, deadline: Deadline): Promise<number> {
    return new Promise((resolve, reject) => {
      const call = this.channel.call(
        '/etcdserverpb.Lease/LeaseKeepAlive',
        this.metadata(deadline),
        {
          message: (m) => {
            resolve(decodeLeaseResponse(m).ttl);
            call.cancel();
          },
          error: reject,
          end: () => reject(new EtcdRequestError('keepalive: etcd ended the stream without an answer', GrpcStatus.UNAVAILABLE)),
        },
        deadline,
      );
      call.write(encodeLeaseIdRequest(id));
    });
  }

  async status(deadline: Deadline): Promise<MemberStatus> {
    return decodeStatusResponse(await this.unary('/etcdserverpb.Maintenance/Status', encodeStatusRequest(), deadline));
  }

  async alarms(deadline: Deadline): Promise<RaisedAlarm[]> {
    return decodeAlarmResponse(await this.unary('/etcdserverpb.Maintenance/Alarm', encodeAlarmGetRequest(), deadline));
  }

  /**
   * Opens a watch stream that requires a leader (the `hasleader` metadata, as the Go
   * client's WithRequireLeader sets it): etcd refuses it, and ends it within a few
   * election timeouts, while its member has no leader. Failures to connect or to
   * authenticate reach `handlers.error`, like any other failure of the stream. `created`
   * bounds authenticating; the stream itself has no deadline.
   */
  watch(handlers: WatchHandlers, created: Deadline): WatchStream {
    const metadata = this.metadata(created).then((m) => ({ ...m, hasleader: 'true' }));
    const call = this.channel.call('/etcdserverpb.Watch/Watch', metadata, {
      message: (m) => {
        let response: WatchResponse;
        try {
          response = decodeWatchResponse(m);
        } catch (err) {
          call.cancel();
          handlers.error(new EtcdRequestError(`watch: ${(err as Error).message}`, GrpcStatus.UNAVAILABLE));
          return;
        }
        handlers.data(response);
      },
      error: handlers.error,
      end: handlers.end,
    });
    return new WatchStream(call);
  }

  /** A call or stream went unanswered: find out whether the session is dead (see GrpcChannel.probe). */
  probe(): void {
    this.channel.probe();
  }

  close(): void {
    this.channel.close();
  }

  private unary(path: string, message: Buffer, deadline: Deadline): Promise<Buffer> {
    if (!this.token) return this.channel.unary(path, message, NO_METADATA, deadline);
    return this.token.with(deadline, this.authenticate, (token) => this.channel.unary(path, message, Promise.resolve({ token }), deadline));
  }

  private metadata(deadline: Deadline): Promise<Metadata> {
    return this.token ? this.token.get(deadline, this.authenticate).then((token) => ({ token })) : NO_METADATA;
  }

  private readonly authenticate = async ({ username, password }: Credentials, deadline: Deadline): Promise<string> =>
    decodeAuthenticateResponse(await this.channel.unary('/etcdserverpb.Auth/Authenticate', encodeAuthenticateRequest(username, password), NO_METADATA, deadline));
}
