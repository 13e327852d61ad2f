// The one table from what etcd answered to svcreg's typed errors: by status code first,
// by words only where etcd gives nothing better.
import { describe, expect, it } from 'vitest';
import {
  AuthError,
  CompactedError,
  FutureRevisionError,
  LeaseNotFoundError,
  SvcregError,
  TooManyOperationsError,
  UnreachableError,
  WritesRefusedError,
} from '../../src/etcd/errors.js';
import { isExpiredToken, translate, watchCanceled } from '../../src/etcd/status-table.js';
import { EtcdRequestError, GrpcStatus } from '../../src/etcd/transport.js';

const answer = (code: number, message: string) => translate(new EtcdRequestError(message, code), 'read', 'http://127.0.0.1:2379');

describe('the status-code table', () => {
  it('maps PERMISSION_DENIED and UNAUTHENTICATED to AuthError whatever the words', () => {
    expect(answer(GrpcStatus.PERMISSION_DENIED, 'anything')).toBeInstanceOf(AuthError);
    expect(answer(GrpcStatus.UNAUTHENTICATED, 'anything')).toBeInstanceOf(AuthError);
  });

  it('maps UNAVAILABLE, DEADLINE_EXCEEDED and CANCELLED to UnreachableError naming the endpoints', () => {
    for (const code of [GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.CANCELLED]) {
      const err = answer(code, 'no answer within the deadline');
      expect(err).toBeInstanceOf(UnreachableError);
      expect(err.message).toBe('read: etcd at http://127.0.0.1:2379 is unreachable (no answer within the deadline)');
    }
  });

  it('maps NOSPACE (RESOURCE_EXHAUSTED) and CORRUPT (DATA_LOSS) to WritesRefusedError with how to clear them', () => {
    const nospace = answer(GrpcStatus.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded');
    expect(nospace).toBeInstanceOf(WritesRefusedError);
    expect(nospace.hint).toMatch(/alarm disarm/);
    expect(answer(GrpcStatus.DATA_LOSS, 'etcdserver: corrupt cluster')).toBeInstanceOf(WritesRefusedError);
  });

  it('does not take the rate limit or the message size limit, which share RESOURCE_EXHAUSTED, for NOSPACE', () => {
    expect(answer(GrpcStatus.RESOURCE_EXHAUSTED, 'etcdserver: too many requests')).not.toBeInstanceOf(WritesRefusedError);
    expect(answer(GrpcStatus.RESOURCE_EXHAUSTED, 'grpc: received message larger than max (5000000 vs. 4194304)')).not.toBeInstanceOf(WritesRefusedError);
  });

  it('maps NOT_FOUND, which only lease requests answer, to LeaseNotFoundError', () => {
    expect(answer(GrpcStatus.NOT_FOUND, 'etcdserver: requested lease not found')).toBeInstanceOf(LeaseNotFoundError);
  });

  it('tells the errors that share a code apart by their words: compacted, future revision, too many operations', () => {
    expect(answer(11, 'etcdserver: mvcc: required revision has been compacted')).toBeInstanceOf(CompactedError);
    expect(answer(11, 'etcdserver: mvcc: required revision is a future revision')).toBeInstanceOf(FutureRevisionError);
    expect(answer(3, 'etcdserver: too many operations in txn request')).toBeInstanceOf(TooManyOperationsError);
    expect(answer(3, 'etcdserver: key is not provided')).toBeInstanceOf(SvcregError);
    expect(answer(3, 'etcdserver: key is not provided')).not.toBeInstanceOf(TooManyOperationsError);
  });

  it('says socket and TLS failures plainly', () => {
    const refused = translate(new EtcdRequestError('connect ECONNREFUSED 127.0.0.1:1', GrpcStatus.UNAVAILABLE), '', 'http://127.0.0.1:1');
    expect(refused.message).toBe('etcd at http://127.0.0.1:1 is unreachable (connection refused)');
    const tls = translate(new EtcdRequestError('write EPROTO ... ssl3_read_bytes:tlsv1 alert unknown ca', GrpcStatus.UNAVAILABLE), '', 'https://127.0.0.1:2');
    expect(tls.message).toMatch(/etcd rejected the client certificate/);
  });

  it('passes svcreg errors through unchanged', () => {
    const err = new UnreachableError('already said');
    expect(translate(err, 'read', 'x')).toBe(err);
  });
});

describe('a watch etcd cancelled', () => {
  it('is an AuthError when permission is denied', () => {
    expect(watchCanceled('etcdserver: permission denied', 'watch /services/')).toBeInstanceOf(AuthError);
  });

  it('is an expired token, to authenticate again, when etcd says the token is invalid', () => {
    const err = watchCanceled('auth: invalid auth token', 'watch /services/');
    expect(err).not.toBeInstanceOf(AuthError);
    expect(isExpiredToken(err)).toBe(true);
  });

  it('is a plain failure, to retry, otherwise', () => {
    const err = watchCanceled('', 'watch /services/');
    expect(err.message).toBe('watch /services/: canceled by etcd: no reason given');
    expect(isExpiredToken(err)).toBe(false);
  });
});
