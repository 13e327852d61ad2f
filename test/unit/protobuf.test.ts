// The hand-written RangeRequest/RangeResponse codec, checked against protobufjs with
// etcd3's own copy of etcd's rpc.proto.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeRangeResponse, encodeRangeRequest } from '../../src/registry/protobuf.js';

const require = createRequire(import.meta.url);
const protobuf = require('protobufjs') as typeof import('protobufjs');
const root = new protobuf.Root().loadSync(require.resolve('etcd3/proto/rpc.proto'), { keepCase: true });
const RangeRequest = root.lookupType('etcdserverpb.RangeRequest');
const RangeResponse = root.lookupType('etcdserverpb.RangeResponse');

describe('protobuf codec', () => {
  it('encodes a RangeRequest that protobufjs reads back field for field', () => {
    const key = Buffer.from('/services/');
    const rangeEnd = Buffer.from('/services0');
    const decoded = RangeRequest.toObject(RangeRequest.decode(encodeRangeRequest({ key, range_end: rangeEnd, limit: 5000, revision: 123456789, keys_only: true })), {
      longs: String,
      bytes: String,
    });
    expect(decoded).toEqual({ key: key.toString('base64'), range_end: rangeEnd.toString('base64'), limit: '5000', revision: '123456789', keys_only: true });
  });

  it('decodes a RangeResponse written by protobufjs, with lease ids beyond 2^53 exact and unknown fields skipped', () => {
    const kvs = [
      { key: Buffer.from('/services/web/w1'), value: Buffer.from('{"a":1}'), create_revision: '5', mod_revision: '9', version: '2', lease: '8877617469305730825' },
      { key: Buffer.from('/services/web/w2'), value: Buffer.alloc(0), create_revision: '9007199254740993', mod_revision: '9007199254740993', version: '1', lease: '0' },
    ];
    const message = RangeResponse.fromObject({ header: { cluster_id: '18446744073709551615', member_id: '1', revision: '42', raft_term: '7' }, kvs, more: true, count: '100000' });
    const res = decodeRangeResponse(Buffer.from(RangeResponse.encode(message).finish()));
    expect(res.revision).toBe('42');
    expect(res.more).toBe(true);
    expect(res.count).toBe('100000');
    expect(res.kvs).toEqual(kvs.map(({ version: _version, ...kv }) => kv));
  });

  it('throws on an answer cut short instead of returning a shorter listing', () => {
    const message = RangeResponse.fromObject({ header: { revision: '3' }, kvs: [{ key: Buffer.from('/services/a/b'), value: Buffer.from('{}') }] });
    const full = Buffer.from(RangeResponse.encode(message).finish());
    expect(() => decodeRangeResponse(full.subarray(0, full.length - 2))).toThrow(/runs past the end/);
  });

  it('decodes an empty answer as no keys', () => {
    expect(decodeRangeResponse(Buffer.alloc(0))).toEqual({ revision: '0', kvs: [], more: false, count: '0' });
  });
});
