import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { afterEndOfOptions } from '../../src/cli/end-of-options.js';
import { UsageError } from '../../src/registry/errors.js';
import { parseEndpoints } from '../../src/etcd/endpoints.js';
import { parseDuration, parseInteger, parseMeta, parsePort, splitList } from '../../src/commands/options.js';
import { parseOutput } from '../../src/output/format.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['3', 3000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text, '--timeout')).toBe(ms);
  });

  it.each(['', '5x', 's', '-1s', '0', '0s', '1 s', 'abc'])('rejects %j', (text) => {
    expect(() => parseDuration(text, '--timeout')).toThrow(UsageError);
  });
});

describe('numbers', () => {
  it.each(['0', '65536', 'abc', '80.5', '-1', ''])('rejects port %j', (text) => {
    expect(() => parsePort(text)).toThrow(UsageError);
  });
  it('accepts ports 1 and 65535', () => {
    expect([parsePort('1'), parsePort('65535')]).toEqual([1, 65535]);
  });
  it('rejects an integer below the minimum', () => {
    expect(() => parseInteger('0', '--ttl', 1)).toThrow(/--ttl/);
  });
});

describe('parseMeta', () => {
  it('splits at the first =', () => {
    expect(parseMeta(['zone=a', 'url=http://x/?a=b', 'empty='])).toEqual({ zone: 'a', url: 'http://x/?a=b', empty: '' });
  });
  it.each(['zone', '=a'])('rejects %j', (pair) => {
    expect(() => parseMeta([pair])).toThrow(UsageError);
  });
});

describe('parseOutput', () => {
  it('defaults to table', () => {
    expect(parseOutput(undefined, ['table', 'json'])).toBe('table');
  });
  it('rejects a format the command does not support', () => {
    expect(() => parseOutput('addr', ['table', 'json'])).toThrow(UsageError);
    expect(() => parseOutput('yaml', ['table', 'json'])).toThrow(UsageError);
  });
});

describe('endpoints', () => {
  it('splits a comma list and drops blanks', () => {
    expect(splitList('a, b,,c')).toEqual(['a', 'b', 'c']);
  });
  it('accepts host:port and URLs, defaulting to http and port 2379', () => {
    expect(parseEndpoints(['127.0.0.1:2379', 'http://localhost', 'http://[::1]:2380'])).toEqual([
      'http://127.0.0.1:2379',
      'http://localhost:2379',
      'http://[::1]:2380',
    ]);
  });
  it.each([['ftp://x:1'], ['http://x:1/path'], ['http://']])('rejects %j', (e) => {
    expect(() => parseEndpoints([e])).toThrow(UsageError);
  });
  it('rejects a mix of http and https', () => {
    expect(() => parseEndpoints(['http://a:1', 'https://b:1'])).toThrow(/mix/);
  });
});

describe('afterEndOfOptions', () => {
  const options = new Command().option('--tag <tag>').option('--replace').options;
  it('is what follows the first --', () => {
    expect(afterEndOfOptions(['web', '--replace', '--', 'node', '--', 'x'], options)).toEqual(['node', '--', 'x']);
  });
  it('skips a -- that is the value of an option', () => {
    expect(afterEndOfOptions(['web', '--tag', '--', 'typo', '--', 'node'], options)).toEqual(['node']);
  });
  it('is undefined without --', () => {
    expect(afterEndOfOptions(['web', 'typo'], options)).toBeUndefined();
  });
});
