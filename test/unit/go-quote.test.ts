// goQuote against what etcdctl 3.4.23 (Go's %q) put in ETCD_WATCH_VALUE for the same bytes,
// recorded from `etcdctl watch -- cmd` (test/e2e/watch-handler.test.ts compares the two live).
import { describe, expect, it } from 'vitest';
import { goQuote } from '../../src/supervise/go-quote.js';

const hex = (h: string) => Buffer.from(h, 'hex');

describe('goQuote', () => {
  it.each([
    ['printable ASCII as is', '706c61696e207465787420313233207e21402324255e262a28295f2b7b7d7c3a3c3e3f', '"plain text 123 ~!@#$%^&*()_+{}|:<>?"'],
    ['quotes, backslashes and the short escapes', '227122205c2007080c0a0d090b', '"\\"q\\" \\\\ \\a\\b\\f\\n\\r\\t\\v"'],
    ['other C0 controls and DEL as \\x', '00011b5b324a7f', '"\\x00\\x01\\x1b[2J\\x7f"'],
    ['C1 controls as \\u', 'c280c29f', '"\\u0080\\u009f"'],
    ['spaces and format characters other than U+0020 as \\u', 'c2a0e280a8e280a9e38080e2808bc2adefbbbf', '"\\u00a0\\u2028\\u2029\\u3000\\u200b\\u00ad\\ufeff"'],
    ['printable Unicode (marks, CJK, emoji, U+FFFD) as is', 'c3a965cc81e4b8adf09f9880efbfbd', '"\u00e9e\u0301\u4e2d\u{1f600}\ufffd"'],
    ['invalid UTF-8 (overlong, surrogates, past U+10FFFF, cut short) byte by byte', 'fffec080c241e08080eda080f4908080f09f98e282', '"\\xff\\xfe\\xc0\\x80\\xc2A\\xe0\\x80\\x80\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80\\xf0\\x9f\\x98\\xe2\\x82"'],
    ['unassigned and private-use runes as \\u and \\U', 'ee8080f48fbfbff3a08081', '"\\ue000\\U0010ffff\\U000e0001"'],
  ])('%s, as etcdctl does', (_what, bytes, quoted) => {
    expect(goQuote(hex(bytes))).toBe(quoted);
  });

  it('never yields a control character or invalid UTF-8, whatever the bytes (10,000 random values)', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
    for (let i = 0; i < 10_000; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + (i % 40) }, random));
      const quoted = goQuote(bytes);
      expect(quoted).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/);
      expect(Buffer.from(quoted).toString()).toBe(quoted);
      expect(quoted.includes('\ufffd') ? bytes.includes(hex('efbfbd')) : true).toBe(true);
    }
  });
});
