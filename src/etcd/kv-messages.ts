/**
 * etcd's KV messages (etcdserverpb, rpc.proto): RangeRequest/RangeResponse for reads and
 * listings, TxnRequest/TxnResponse for registrations and purges.
 */
import { decodeHeader, decodeKeyValue, LENGTH_DELIMITED, Reader, tag, VARINT, Writer } from './protobuf.js';
import type { Compare, RangeRequest, RangeResponse, RawKeyValue, RequestOp, TxnRequest, TxnResponse } from './transport.js';

/** RangeRequest: key = 1, range_end = 2, limit = 3, revision = 4, keys_only = 8, count_only = 9. */
function rangeRequest(r: RangeRequest): Writer {
  return new Writer().bytes(1, r.key).bytes(2, r.range_end).int(3, r.limit).int(4, r.revision).bool(8, r.keys_only).bool(9, r.count_only);
}

export function encodeRangeRequest(r: RangeRequest): Buffer {
  return rangeRequest(r).finish();
}

const RANGE_HEADER = tag(1, LENGTH_DELIMITED);
const RANGE_KV = tag(2, LENGTH_DELIMITED);
const RANGE_MORE = tag(3, VARINT);
const RANGE_COUNT = tag(4, VARINT);

/** RangeResponse: header = 1, kvs = 2, more = 3, count = 4. */
function decodeRange(r: Reader): RangeResponse {
  const res: RangeResponse = { revision: '0', kvs: [], more: false, count: '0' };
  while (r.more()) {
    const t = r.tag();
    if (t === RANGE_KV) res.kvs.push(r.embedded(decodeKeyValue));
    else if (t === RANGE_HEADER) res.revision = decodeHeader(r.message()).revision;
    else if (t === RANGE_MORE) res.more = r.bool();
    else if (t === RANGE_COUNT) res.count = r.varintString();
    else r.skip(t & 7);
  }
  return res;
}

export function decodeRangeResponse(buf: Buffer): RangeResponse {
  return decodeRange(new Reader(buf));
}

/** Compare.CompareTarget; the result is always Equal (0, so left out). */
const COMPARE_TARGET = { Create: 1, Mod: 2, Lease: 4 } as const;

/** Compare: result = 1, target = 2, key = 3, then the oneof create_revision = 5, mod_revision = 6, lease = 8. */
function compare(c: Compare): Writer {
  const w = new Writer().int(2, COMPARE_TARGET[c.target]).bytes(3, c.key);
  switch (c.target) {
    case 'Create':
      return w.intAlways(5, c.create_revision);
    case 'Mod':
      return w.intAlways(6, c.mod_revision);
    case 'Lease':
      return w.intAlways(8, c.lease);
  }
}

/** RequestOp: request_range = 1, request_put = 2 (key = 1, value = 2, lease = 3), request_delete_range = 3 (key = 1). */
function requestOp(op: RequestOp): Writer {
  if ('request_put' in op) {
    const { key, value, lease } = op.request_put;
    return new Writer().message(2, new Writer().bytes(1, key).bytes(2, value).int(3, lease));
  }
  if ('request_range' in op) return new Writer().message(1, rangeRequest(op.request_range));
  return new Writer().message(3, new Writer().bytes(1, op.request_delete_range.key));
}

/** TxnRequest: compare = 1, success = 2, failure = 3. */
export function encodeTxnRequest(t: TxnRequest): Buffer {
  const w = new Writer();
  for (const c of t.compare) w.message(1, compare(c));
  for (const op of t.success) w.message(2, requestOp(op));
  for (const op of t.failure ?? []) w.message(3, requestOp(op));
  return w.finish();
}

/** TxnResponse: header = 1, succeeded = 2, responses = 3 (ResponseOp: response_range = 1). */
export function decodeTxnResponse(buf: Buffer): TxnResponse {
  const res: TxnResponse = { succeeded: false, ranges: [] };
  const r = new Reader(buf);
  while (r.more()) {
    const [field, wire] = r.field();
    if (field === 2 && wire === VARINT) res.succeeded = r.bool();
    else if (field === 3 && wire === LENGTH_DELIMITED) {
      const op = r.message();
      while (op.more()) {
        const [f, w] = op.field();
        if (f === 1 && w === LENGTH_DELIMITED) res.ranges.push(decodeRange(op.message()).kvs as RawKeyValue[]);
        else op.skip(w);
      }
    } else r.skip(wire);
  }
  return res;
}
