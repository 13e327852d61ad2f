/**
 * The few etcd requests svcreg makes, as one interface with two implementations:
 * etcd's JSON gateway over Node's http (gateway.ts: nothing to load, so one-shot
 * commands start fast and a registrant stays small) and gRPC over Node's http2
 * (grpc.ts: for large listings, watch streams and endpoints without the gateway).
 * Shapes follow etcd's protobuf messages, with int64 as decimal strings.
 */
import type { Deadline } from './deadline.js';

/** The fields of etcd's KeyValue that svcreg reads. */
export interface RawKeyValue {
  key: Buffer;
  value: Buffer;
  lease: string;
  create_revision: string;
  mod_revision: string;
}

export interface RangeRequest {
  key: Buffer;
  range_end?: Buffer;
  limit?: number;
  /** 0 or absent: the latest revision. */
  revision?: number;
  keys_only?: boolean;
  count_only?: boolean;
}

export interface RangeResponse {
  revision: string;
  kvs: RawKeyValue[];
  more: boolean;
  count: string;
}

/** One compare of a transaction: `target` names which field of the key is compared. */
export type Compare =
  | { key: Buffer; target: 'Create'; create_revision: number }
  | { key: Buffer; target: 'Mod'; mod_revision: string | number }
  | { key: Buffer; target: 'Lease'; lease: string };

export type RequestOp =
  | { request_put: { key: Buffer; value: Buffer; lease?: string } }
  | { request_range: RangeRequest }
  | { request_delete_range: { key: Buffer } };

/** A transaction whose compares all test for equality. */
export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure?: RequestOp[];
}

export interface TxnResponse {
  succeeded: boolean;
  /** The kvs of each range request in the branch taken, in order. */
  ranges: RawKeyValue[][];
}

/**
 * One member's own view (Maintenance.Status): what `status` shows. Ids are uint64 and
 * sizes int64, as decimal strings; `leader` is "0" while the member knows no leader.
 */
export interface MemberStatus {
  /** The answering member (its response header's member_id). */
  member_id: string;
  /** The member's store revision (its response header's revision). */
  revision: string;
  /** The etcd server version. */
  version: string;
  db_size: string;
  db_size_in_use: string;
  leader: string;
  raft_index: string;
  raft_term: string;
}

/** An alarm raised in the cluster: on which member ("0": the whole cluster) and which. */
export interface RaisedAlarm {
  member_id: string;
  /** NOSPACE, CORRUPT, or ALARM_<n> for a type this svcreg does not know. */
  alarm: string;
}

const ALARM_TYPES = ['NONE', 'NOSPACE', 'CORRUPT'];

/** etcd's AlarmType by number (gRPC) or by name (the JSON gateway prints the name). */
export function alarmName(type: number | string | undefined): string {
  if (typeof type === 'string' && !/^\d+$/.test(type)) return type;
  const n = Number(type ?? 0);
  return ALARM_TYPES[n] ?? `ALARM_${n}`;
}

/**
 * The requests of one endpoint. Connection gives each its `deadline` and enforces it; a
 * transport passes it on to etcd where the protocol can and frees the request when it aborts.
 */
export interface Transport {
  range(request: RangeRequest, deadline: Deadline): Promise<RangeResponse>;
  /** The same as `range`, for the pages of large listings: it may take a faster path. */
  listPage(request: RangeRequest, deadline: Deadline): Promise<RangeResponse>;
  txn(request: TxnRequest, deadline: Deadline): Promise<TxnResponse>;
  leaseGrant(ttl: number, deadline: Deadline): Promise<{ id: string; ttl: number }>;
  leaseRevoke(id: string, deadline: Deadline): Promise<void>;
  /** Renews the lease once; returns the TTL etcd grants (0: the lease is gone). */
  leaseKeepAlive(id: string, deadline: Deadline): Promise<number>;
  /** Seconds the lease has left; -1 when it has expired or never was. */
  leaseTimeToLive(id: string, deadline: Deadline): Promise<number>;
  /** The answering member's status; needs no permission. */
  status(deadline: Deadline): Promise<MemberStatus>;
  /** Every alarm raised in the cluster (AlarmRequest GET, which etcd answers through raft). */
  alarms(deadline: Deadline): Promise<RaisedAlarm[]>;
  close(): void;
}

/** The gRPC status codes svcreg acts on (the JSON gateway reports them too). */
export const GrpcStatus = {
  CANCELLED: 1,
  NOT_FOUND: 5,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** An error etcd answered with, or a transport failure, with its gRPC status code. */
export class EtcdRequestError extends Error {
  constructor(message: string, readonly code: number) {
    super(message);
  }
}

/** The endpoint answers HTTP but has no JSON gateway (disabled, or not etcd): use gRPC. */
export class NoGatewayError extends Error {}

/** Socket and TLS failures count as an unreachable endpoint; their message names the cause. */
export function asRequestError(err: Error): Error {
  return err instanceof EtcdRequestError || err instanceof NoGatewayError ? err : new EtcdRequestError(err.message, GrpcStatus.UNAVAILABLE);
}

