/**
 * WatchState: what a watch has delivered, so that every change is delivered exactly
 * once across reconnects, and what the difference is after the history is lost.
 */
import { describe, expect, it } from 'vitest';
import type { RawKeyValue } from '../../src/etcd/transport.js';
import { WatchState } from '../../src/registry/watch-state.js';

function kv(key: string, value: string, mod: number, create = mod): RawKeyValue {
  return { key: Buffer.from(key), value: Buffer.from(value), lease: '0', create_revision: String(create), mod_revision: String(mod) };
}

const summary = (diff: ReturnType<WatchState['diff']>) => diff.map((d) => `${d.type} ${d.kv.key} ${d.prev ? d.prev.value : '-'}`);

describe('WatchState: what was delivered', () => {
  it('starts from a read: its revision is whole, older revisions are delivered, the next one is not', () => {
    const s = new WatchState(10, [kv('/s/a', 'A', 7)]);
    expect(s.revision).toBe(10);
    expect(s.resumeFrom).toBe(11);
    expect(s.delivered(10, '/s/x')).toBe(true);
    expect(s.delivered(3, '/s/a')).toBe(true);
    expect(s.delivered(11, '/s/a')).toBe(false);
    expect(s.previous('/s/a')?.value.toString()).toBe('A');
  });

  it('an event already delivered (same revision and key) is reported as delivered', () => {
    const s = new WatchState(10);
    s.record(11, '/s/a', kv('/s/a', 'A', 11));
    expect(s.delivered(11, '/s/a')).toBe(true);
  });

  it('several events of one revision (a transaction, different keys) are all new until each is delivered', () => {
    const s = new WatchState(10);
    const keys = ['/s/a', '/s/b', '/s/c', '/s/d', '/s/e'];
    for (const k of keys) {
      expect(s.delivered(11, k)).toBe(false);
      s.record(11, k, kv(k, 'v', 11));
      expect(s.delivered(11, k)).toBe(true);
    }
    // The first key of the revision being delivered must not hide the others.
    const t = new WatchState(10);
    t.record(11, '/s/a', kv('/s/a', 'v', 11));
    expect(keys.slice(1).map((k) => t.delivered(11, k))).toEqual([false, false, false, false]);
  });

  it('events of an older revision than the last delivered are delivered', () => {
    const s = new WatchState(10);
    s.record(12, '/s/a', kv('/s/a', 'A', 12));
    expect(s.delivered(11, '/s/zzz')).toBe(true);
    expect(s.delivered(12, '/s/b')).toBe(false);
    expect(s.delivered(13, '/s/a')).toBe(false);
  });

  it('resumes from the last revision again while it may be partial, and after it once it is whole', () => {
    const s = new WatchState(10);
    expect(s.resumeFrom).toBe(11);
    s.record(11, '/s/a', kv('/s/a', 'A', 11));
    // Part of revision 11 may still be unsent: ask for it again (repeats are dropped by key).
    expect(s.resumeFrom).toBe(11);
    s.record(11, '/s/b', kv('/s/b', 'B', 11));
    expect(s.resumeFrom).toBe(11);
    s.record(12, '/s/c', kv('/s/c', 'C', 12));
    expect(s.resumeFrom).toBe(12);
    expect(s.delivered(11, '/s/other')).toBe(true);
  });

  it('after progress(r) every event at r (and before) is delivered, and it resumes after r', () => {
    const s = new WatchState(10);
    s.record(11, '/s/a', kv('/s/a', 'A', 11));
    s.progress(11);
    expect(s.delivered(11, '/s/b')).toBe(true);
    expect(s.resumeFrom).toBe(12);
    s.progress(20);
    expect(s.revision).toBe(20);
    expect(s.delivered(20, '/s/x')).toBe(true);
    expect(s.delivered(21, '/s/x')).toBe(false);
    expect(s.resumeFrom).toBe(21);
  });

  it('a progress notice older than what was delivered changes nothing', () => {
    const s = new WatchState(10);
    s.record(15, '/s/a', kv('/s/a', 'A', 15));
    s.progress(12);
    expect(s.revision).toBe(15);
    expect(s.delivered(15, '/s/b')).toBe(false);
    expect(s.resumeFrom).toBe(15);
  });

  it('a deletion is recorded: the key has no previous value any more', () => {
    const s = new WatchState(10, [kv('/s/a', 'A', 5)]);
    s.record(11, '/s/a', null);
    expect(s.previous('/s/a')).toBeUndefined();
    expect(s.delivered(11, '/s/a')).toBe(true);
  });
});

describe('WatchState.diff: what changed since what was delivered', () => {
  it('finds a changed value even at the same mod_revision (etcd restarted on a new data dir)', () => {
    const s = new WatchState(5, [kv('/s/a', 'old', 3), kv('/s/b', 'same', 4)]);
    const diff = s.diff([kv('/s/a', 'new', 3), kv('/s/b', 'same', 4)]);
    expect(summary(diff)).toEqual(['PUT /s/a old']);
    expect(diff[0].kv.value.toString()).toBe('new');
  });

  it('finds a value recreated at the same mod_revision with another create_revision', () => {
    const s = new WatchState(5, [kv('/s/a', 'v', 4, 2)]);
    expect(summary(s.diff([kv('/s/a', 'v', 4, 4)]))).toEqual(['PUT /s/a v']);
  });

  it('finds deleted keys, with the value that left as prev', () => {
    const s = new WatchState(5, [kv('/s/a', 'A', 2), kv('/s/b', 'B', 3)]);
    const diff = s.diff([kv('/s/b', 'B', 3)]);
    expect(summary(diff)).toEqual(['DELETE /s/a A']);
    expect(diff[0].kv.value.length).toBe(0);
  });

  it('finds new keys; nothing for unchanged ones', () => {
    const s = new WatchState(5, [kv('/s/a', 'A', 2)]);
    expect(summary(s.diff([kv('/s/a', 'A', 2), kv('/s/n', 'N', 9)]))).toEqual(['PUT /s/n -']);
    expect(s.diff([kv('/s/a', 'A', 2)])).toEqual([]);
  });

  it('orders changes by mod_revision, then the deletions', () => {
    const s = new WatchState(5, [kv('/s/gone', 'G', 1), kv('/s/a', 'A', 2)]);
    const diff = s.diff([kv('/s/z', 'Z', 7), kv('/s/a', 'A2', 9), kv('/s/m', 'M', 8)]);
    expect(summary(diff)).toEqual(['PUT /s/z -', 'PUT /s/m -', 'PUT /s/a A', 'DELETE /s/gone G']);
  });

  it('diffs against what was delivered since the read, and reset() starts over from a new read', () => {
    const s = new WatchState(5, [kv('/s/a', 'A', 2)]);
    s.record(6, '/s/b', kv('/s/b', 'B', 6));
    s.record(7, '/s/a', null);
    expect(summary(s.diff([kv('/s/b', 'B', 6)]))).toEqual([]);
    s.reset(3, [kv('/s/c', 'C', 2)]);
    expect(s.revision).toBe(3);
    expect(s.resumeFrom).toBe(4);
    expect(s.previous('/s/b')).toBeUndefined();
    expect(summary(s.diff([]))).toEqual(['DELETE /s/c C']);
  });
});
