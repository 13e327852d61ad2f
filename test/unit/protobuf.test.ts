// The hand-written codecs of etcd's messages, checked against protobufjs with etcd3's
// own copy of etcd's rpc.proto (etcd3 is a devDependency for this and for tests' raw client).
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { frameMessage, MessageDecoder } from '../../src/etcd/grpc-call.js';
import { decodeRangeResponse, decodeTxnResponse, encodeRangeRequest, encodeTxnRequest } from '../../src/etcd/kv-messages.js';
import { decodeAuthenticateResponse, decodeLeaseResponse, encodeAuthenticateRequest, encodeLeaseGrantRequest, encodeLeaseIdRequest } from '../../src/etcd/lease-messages.js';
import { decodeAlarmResponse, decodeStatusResponse, encodeAlarmGetRequest, encodeStatusRequest } from '../../src/etcd/maintenance-messages.js';
import { decodeWatchResponse, encodeWatchRequest } from '../../src/etcd/watch-messages.js';

const require = createRequire(import.meta.url);
const protobuf = require('protobufjs') as typeof import('protobufjs');
const root = new protobuf.Root().loadSync(require.resolve('etcd3/proto/rpc.proto'), { keepCase: true });
const type = (name: string) => root.lookupType(`etcdserverpb.${name}`);
const LONG_LEASE = '8877617469305730825'; // beyond 2^53: a double would round it
const asObject = (name: string, bytes: Buffer) => type(name).toObject(type(name).decode(bytes), { longs: String, bytes: String, enums: String, defaults: false });
const encoded = (name: string, object: Record<string, unknown>) => Buffer.from(type(name).encode(type(name).fromObject(object)).finish());
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('KV messages', () => {
  it('encodes a RangeRequest that protobufjs reads back field for field', () => {
    const key = Buffer.from('/services/');
    const rangeEnd = Buffer.from('/services0');
    expect(asObject('RangeRequest', encodeRangeRequest({ key, range_end: rangeEnd, limit: 5000, revision: 123456789, keys_only: true }))).toEqual({
      key: b64('/services/'),
      range_end: b64('/services0'),
      limit: '5000',
      revision: '123456789',
      keys_only: true,
    });
  });

  it('decodes a RangeResponse written by protobufjs, with lease ids beyond 2^53 exact and unknown fields skipped', () => {
    const kvs = [
      { key: Buffer.from('/services/web/w1'), value: Buffer.from('{"a":1}'), create_revision: '5', mod_revision: '9', version: '2', lease: LONG_LEASE },
      { key: Buffer.from('/services/web/w2'), value: Buffer.alloc(0), create_revision: '9007199254740993', mod_revision: '9007199254740993', version: '1', lease: '0' },
    ];
    const res = decodeRangeResponse(encoded('RangeResponse', { header: { cluster_id: '18446744073709551615', member_id: '1', revision: '42', raft_term: '7' }, kvs, more: true, count: '100000' }));
    expect(res.revision).toBe('42');
    expect(res.more).toBe(true);
    expect(res.count).toBe('100000');
    expect(res.kvs).toEqual(kvs.map(({ version: _version, ...kv }) => kv));
  });

  it('throws on an answer cut short instead of returning a shorter listing', () => {
    const full = encoded('RangeResponse', { header: { revision: '3' }, kvs: [{ key: Buffer.from('/services/a/b'), value: Buffer.from('{}') }] });
    expect(() => decodeRangeResponse(full.subarray(0, full.length - 2))).toThrow(/runs past the end/);
  });

  it('decodes values of any length: one-byte and multi-byte lengths and revisions alike', () => {
    const kvs = [128, 127, 16_384, 0, 300].map((n, i) => ({ key: Buffer.from(`/services/web/w${i}`), value: Buffer.from('x'.repeat(n)), create_revision: String(127 + i), mod_revision: String(2 ** 40 + i), lease: '0' }));
    expect(decodeRangeResponse(encoded('RangeResponse', { header: { revision: '3' }, kvs })).kvs).toEqual(kvs);
  });

  it('throws on a KeyValue whose last field is cut off, rather than reading the next one', () => {
    // kvs = 2, length 1: a lone create_revision tag, then the next KeyValue (key "/b"), whose first byte must not be read as its value.
    expect(() => decodeRangeResponse(Buffer.from([0x12, 1, 0x10, 0x12, 4, 0x0a, 2, 0x2f, 0x62]))).toThrow(/runs past the end/);
    // The same with a key's length: a one-byte tag and nothing after it in its KeyValue.
    expect(() => decodeRangeResponse(Buffer.from([0x12, 1, 0x0a, 0x12, 4, 0x0a, 2, 0x2f, 0x62]))).toThrow(/runs past the end/);
    // A key of length 5 in a KeyValue of 3 bytes, the next KeyValue (key "/b") after it.
    expect(() => decodeRangeResponse(Buffer.from([0x12, 3, 0x0a, 5, 0x2f, 0x12, 4, 0x0a, 2, 0x2f, 0x62]))).toThrow(/runs past the end/);
  });

  it('decodes an empty answer as no keys', () => {
    expect(decodeRangeResponse(Buffer.alloc(0))).toEqual({ revision: '0', kvs: [], more: false, count: '0' });
  });

  it('encodes a TxnRequest with every compare and op svcreg uses, a compare against 0 kept', () => {
    const key = Buffer.from('/services/web/w1');
    const txn = encodeTxnRequest({
      compare: [
        { key, target: 'Create', create_revision: 0 },
        { key, target: 'Mod', mod_revision: '9007199254740993' },
        { key, target: 'Lease', lease: LONG_LEASE },
      ],
      success: [{ request_put: { key, value: Buffer.from('{}'), lease: LONG_LEASE } }, { request_delete_range: { key } }],
      failure: [{ request_range: { key, keys_only: true } }],
    });
    const k = key.toString('base64');
    expect(asObject('TxnRequest', txn)).toEqual({
      compare: [
        { target: 'Create', key: k, create_revision: '0' },
        { target: 'Mod', key: k, mod_revision: '9007199254740993' },
        { target: 'Lease', key: k, lease: LONG_LEASE },
      ],
      success: [{ request_put: { key: k, value: b64('{}'), lease: LONG_LEASE } }, { request_delete_range: { key: k } }],
      failure: [{ request_range: { key: k, keys_only: true } }],
    });
    // Equal is the enum's default, so it is left out on the wire and reads back as Equal.
    expect((type('TxnRequest').toObject(type('TxnRequest').decode(txn), { enums: String, defaults: true }).compare as { result: string }[]).map((c) => c.result)).toEqual([
      'Equal',
      'Equal',
      'Equal',
    ]);
  });

  it('decodes a TxnResponse: whether it succeeded and the kvs of each range, in order', () => {
    const kv = { key: Buffer.from('/services/a/b'), value: Buffer.from('{}'), create_revision: '3', mod_revision: '4', lease: LONG_LEASE };
    const res = decodeTxnResponse(
      encoded('TxnResponse', {
        header: { revision: '4' },
        succeeded: true,
        responses: [{ response_put: { header: {} } }, { response_range: { kvs: [kv], count: '1' } }, { response_range: { kvs: [] } }],
      }),
    );
    expect(res).toEqual({ succeeded: true, ranges: [[kv], []] });
    expect(decodeTxnResponse(encoded('TxnResponse', { header: { revision: '4' } }))).toEqual({ succeeded: false, ranges: [] });
  });
});

describe('Lease and Auth messages', () => {
  it('encodes grants, revokes and keepalives with int64 ids exact', () => {
    expect(asObject('LeaseGrantRequest', encodeLeaseGrantRequest(30))).toEqual({ TTL: '30' });
    expect(asObject('LeaseRevokeRequest', encodeLeaseIdRequest(LONG_LEASE))).toEqual({ ID: LONG_LEASE });
    expect(asObject('LeaseKeepAliveRequest', encodeLeaseIdRequest(LONG_LEASE))).toEqual({ ID: LONG_LEASE });
  });

  it('decodes grant and keepalive answers; a lease that is gone renews with TTL 0', () => {
    expect(decodeLeaseResponse(encoded('LeaseGrantResponse', { header: { revision: '2' }, ID: LONG_LEASE, TTL: '30' }))).toEqual({ id: LONG_LEASE, ttl: 30 });
    expect(decodeLeaseResponse(encoded('LeaseKeepAliveResponse', { header: { revision: '2' }, ID: LONG_LEASE, TTL: '0' }))).toEqual({ id: LONG_LEASE, ttl: 0 });
  });

  it("decodes a lease's time to live, -1 (an int64 on the wire) for an expired one", () => {
    expect(decodeLeaseResponse(encoded('LeaseTimeToLiveResponse', { ID: LONG_LEASE, TTL: '17', grantedTTL: '30' }))).toEqual({ id: LONG_LEASE, ttl: 17 });
    expect(decodeLeaseResponse(encoded('LeaseTimeToLiveResponse', { ID: LONG_LEASE, TTL: '-1' }))).toEqual({ id: LONG_LEASE, ttl: -1 });
  });

  it('encodes Authenticate and decodes its token', () => {
    expect(asObject('AuthenticateRequest', encodeAuthenticateRequest('svc', 'pässword'))).toEqual({ name: 'svc', password: 'pässword' });
    expect(decodeAuthenticateResponse(encoded('AuthenticateResponse', { header: { revision: '1' }, token: 'abc.123' }))).toBe('abc.123');
  });
});

describe('Watch messages', () => {
  it('encodes create and cancel requests', () => {
    const create = encodeWatchRequest({ create_request: { key: Buffer.from('/services/'), range_end: Buffer.from('/services0'), start_revision: 17, prev_kv: true, progress_notify: true } });
    expect(asObject('WatchRequest', create)).toEqual({
      create_request: { key: b64('/services/'), range_end: b64('/services0'), start_revision: '17', prev_kv: true, progress_notify: true },
    });
    expect(asObject('WatchRequest', encodeWatchRequest({ cancel_request: { watch_id: 3 } }))).toEqual({ cancel_request: { watch_id: '3' } });
  });

  it('decodes a WatchResponse with its header (uint64 cluster id exact), flags and events', () => {
    const kv = { key: Buffer.from('/services/a/b'), value: Buffer.from('{"x":1}'), create_revision: '5', mod_revision: '6', lease: LONG_LEASE };
    const deleted = { key: Buffer.from('/services/a/b'), value: Buffer.alloc(0), create_revision: '0', mod_revision: '7', lease: '0' };
    const res = decodeWatchResponse(
      encoded('WatchResponse', {
        header: { cluster_id: '18446744073709551615', member_id: '9223372036854775808', revision: '7', raft_term: '3' },
        watch_id: '1',
        events: [
          { type: 'Put', kv },
          { type: 'Delete', kv: deleted, prev_kv: kv },
        ],
      }),
    );
    expect(res).toEqual({
      header: { cluster_id: '18446744073709551615', member_id: '9223372036854775808', revision: '7', raft_term: '3' },
      watch_id: '1',
      created: false,
      canceled: false,
      compact_revision: '0',
      cancel_reason: '',
      events: [
        { type: 'Put', kv, prev_kv: null },
        { type: 'Delete', kv: deleted, prev_kv: kv },
      ],
    });
  });

  it('decodes created and canceled answers', () => {
    expect(decodeWatchResponse(encoded('WatchResponse', { header: { revision: '9' }, created: true }))).toMatchObject({ created: true, canceled: false, events: [] });
    expect(decodeWatchResponse(encoded('WatchResponse', { canceled: true, compact_revision: '12', cancel_reason: 'mvcc: required revision has been compacted' }))).toMatchObject({
      canceled: true,
      compact_revision: '12',
      cancel_reason: 'mvcc: required revision has been compacted',
    });
  });
});

describe('Maintenance messages', () => {
  const MAX_UINT64 = '18446744073709551615';

  it('encodes a StatusRequest and an AlarmRequest that protobufjs reads as GET for every member and alarm', () => {
    expect(asObject('StatusRequest', encodeStatusRequest())).toEqual({});
    const get = type('AlarmRequest').toObject(type('AlarmRequest').decode(encodeAlarmGetRequest()), { longs: String, enums: String, defaults: true });
    expect(get).toEqual({ action: 'Get', memberID: '0', alarm: 'None' });
  });

  it('decodes a StatusResponse written by protobufjs, uint64 ids exact and unknown fields skipped', () => {
    const res = decodeStatusResponse(
      encoded('StatusResponse', {
        header: { cluster_id: '1', member_id: MAX_UINT64, revision: '9007199254740993', raft_term: '4' },
        version: '3.5.16',
        dbSize: '25165824',
        leader: '9223372036854775808',
        raftIndex: '1234',
        raftTerm: '7',
        raftAppliedIndex: '1233',
        errors: ['alarm:NOSPACE '],
        dbSizeInUse: '16384',
        isLearner: true,
      }),
    );
    expect(res).toEqual({
      member_id: MAX_UINT64,
      revision: '9007199254740993',
      version: '3.5.16',
      db_size: '25165824',
      db_size_in_use: '16384',
      leader: '9223372036854775808',
      raft_index: '1234',
      raft_term: '7',
    });
  });

  it('decodes a StatusResponse of a member that knows no leader: leader 0, left out on the wire', () => {
    expect(decodeStatusResponse(encoded('StatusResponse', { header: { member_id: '5' }, version: '3.4.23', raftTerm: '3' }))).toMatchObject({ member_id: '5', leader: '0', raft_term: '3' });
  });

  it('decodes an AlarmResponse: each alarm with its member, a type it does not know named by number', () => {
    const res = decodeAlarmResponse(
      encoded('AlarmResponse', {
        header: { revision: '3' },
        alarms: [
          { memberID: MAX_UINT64, alarm: 'Nospace' },
          { memberID: '0', alarm: 'Corrupt' },
          { memberID: '7', alarm: 9 },
        ],
      }),
    );
    expect(res).toEqual([
      { member_id: MAX_UINT64, alarm: 'NOSPACE' },
      { member_id: '0', alarm: 'CORRUPT' },
      { member_id: '7', alarm: 'ALARM_9' },
    ]);
    expect(decodeAlarmResponse(encoded('AlarmResponse', { header: { revision: '3' } }))).toEqual([]);
  });
});

describe('gRPC message framing', () => {
  const messages = [Buffer.from('one'), Buffer.alloc(0), Buffer.alloc(20_000, 7), Buffer.from('last')];
  const wire = Buffer.concat(messages.map(frameMessage));

  it('reads messages whatever the DATA frames cut them into: one byte at a time, or several in one chunk', () => {
    for (const size of [1, 3, 5, 16_384, wire.length]) {
      const decoder = new MessageDecoder();
      const out: Buffer[] = [];
      for (let i = 0; i < wire.length; i += size) out.push(...decoder.push(wire.subarray(i, i + size)));
      expect(out).toEqual(messages);
      expect(decoder.partial).toBe(false);
    }
  });

  it('knows a message cut short from a complete one', () => {
    const decoder = new MessageDecoder();
    expect(decoder.push(wire.subarray(0, 10))).toEqual([Buffer.from('one')]);
    expect(decoder.partial).toBe(true);
  });

  it('refuses a compressed message, which svcreg never asks for', () => {
    const frame = frameMessage(Buffer.from('x'));
    frame[0] = 1;
    expect(() => new MessageDecoder().push(frame)).toThrow(/compressed/);
  });
});
