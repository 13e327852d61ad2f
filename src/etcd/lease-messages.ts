/**
 * etcd's Lease and Auth messages (etcdserverpb, rpc.proto) that registrations and
 * authentication need over gRPC.
 */
import { LENGTH_DELIMITED, Reader, VARINT, Writer } from './protobuf.js';

/** LeaseGrantRequest: TTL = 1, ID = 2 (0: etcd picks). */
export function encodeLeaseGrantRequest(ttl: number): Buffer {
  return new Writer().int(1, ttl).finish();
}

/** LeaseRevokeRequest, LeaseKeepAliveRequest and LeaseTimeToLiveRequest: ID = 1. */
export function encodeLeaseIdRequest(id: string): Buffer {
  return new Writer().int(1, id).finish();
}

/**
 * LeaseGrantResponse, LeaseKeepAliveResponse and LeaseTimeToLiveResponse: header = 1,
 * ID = 2, TTL = 3 (int64: -1 for an expired lease's time to live). A keepalive of a lease
 * that is gone answers TTL 0; a refused grant fails with its status.
 */
export function decodeLeaseResponse(buf: Buffer): { id: string; ttl: number } {
  const res = { id: '0', ttl: 0 };
  const r = new Reader(buf);
  while (r.more()) {
    const [field, wire] = r.field();
    if (field === 2 && wire === VARINT) res.id = r.varintString();
    else if (field === 3 && wire === VARINT) res.ttl = Number(BigInt.asIntN(64, BigInt(r.varintString())));
    else r.skip(wire);
  }
  return res;
}

/** AuthenticateRequest: name = 1, password = 2. */
export function encodeAuthenticateRequest(name: string, password: string): Buffer {
  return new Writer().string(1, name).string(2, password).finish();
}

/** AuthenticateResponse: header = 1, token = 2. */
export function decodeAuthenticateResponse(buf: Buffer): string {
  let token = '';
  const r = new Reader(buf);
  while (r.more()) {
    const [field, wire] = r.field();
    if (field === 2 && wire === LENGTH_DELIMITED) token = r.string();
    else r.skip(wire);
  }
  return token;
}
