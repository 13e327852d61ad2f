import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/registry/errors.js';
import { instanceKey, validatePrefix, parseKey, prefixRangeEnd, serviceKeyPrefix, validateSegment } from '../../src/registry/keys.js';

describe('names and ids', () => {
  it.each([
    ['empty', ''],
    ['a single dot', '.'],
    ['two dots', '..'],
    ['a slash', 'a/b'],
    ['a newline', 'a\nb'],
    ['a NUL', 'a\u0000b'],
    ['half of a surrogate pair', 'a\ud800b'],
    ['DEL', 'a\u007fb'],
    ['a C1 control', 'a\u0085b'],
    ['254 characters', 'x'.repeat(254)],
  ])('rejects %s', (_what, name) => {
    expect(() => validateSegment('service name', name)).toThrow(UsageError);
  });

  it.each(['user-service', 'user_service.v2', 'x'.repeat(253), 'ünïcode', '...x'])('accepts %j', (name) => {
    expect(validateSegment('instance id', name)).toBe(name);
  });
});

describe('prefix', () => {
  it('accepts a prefix that starts and ends with a slash', () => {
    expect(validatePrefix('/services/')).toBe('/services/');
    expect(validatePrefix('/a/b/')).toBe('/a/b/');
    expect(validatePrefix('/')).toBe('/');
  });

  it.each([[''], ['services'], ['services/'], ['/services'], ['/ser\u0007vices/']])('rejects %j instead of guessing', (prefix) => {
    expect(() => validatePrefix(prefix)).toThrow(UsageError);
  });
});

describe('keys', () => {
  it('a service range ends with a slash, so foo never reads foobar', () => {
    expect(serviceKeyPrefix('/services/', 'foo')).toBe('/services/foo/');
    expect('/services/foobar/x'.startsWith(serviceKeyPrefix('/services/', 'foo'))).toBe(false);
  });

  it('builds and parses <prefix><service>/<id>', () => {
    const key = instanceKey('/services/', 'user-service', 'user-service-001');
    expect(key).toBe('/services/user-service/user-service-001');
    expect(parseKey('/services/', key)).toEqual({ ok: true, service: 'user-service', id: 'user-service-001' });
  });

  it.each(['/services/only-service', '/services/a/b/c', '/services/a/', '/services//x', '/services/a/..'])(
    'reports %j as a key at the wrong depth or with a bad segment',
    (key) => {
      expect(parseKey('/services/', key).ok).toBe(false);
    },
  );

  it('the range end of a prefix is the prefix with its last byte incremented', () => {
    expect(prefixRangeEnd(Buffer.from('/services/')).toString()).toBe('/services0');
    expect(prefixRangeEnd(Buffer.from([0x61, 0xff]))).toEqual(Buffer.from([0x62]));
    expect(prefixRangeEnd(Buffer.from([0xff]))).toEqual(Buffer.from([0]));
  });
});
