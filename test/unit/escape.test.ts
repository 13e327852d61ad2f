import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { escapeControls, escapeJsonText } from '../../src/output/escape.js';
import { cut, displayWidth } from '../../src/output/width.js';

describe('escapeControls', () => {
  it('escapes every C0 control, DEL and C1 control', () => {
    const all = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join('') + '\u007f' + Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(0x80 + i)).join('');
    const shown = escapeControls(all);
    expect(shown).toMatch(/^[\x20-\x7e]+$/);
    expect(shown.startsWith('\\x00\\x01')).toBe(true);
    expect(shown).toContain('\\t\\n\\x0b\\x0c\\r');
    expect(shown).toContain('\\x1b');
    expect(shown.endsWith('\\x7f\\x80\\x81\\x82\\x83\\x84\\x85\\x86\\x87\\x88\\x89\\x8a\\x8b\\x8c\\x8d\\x8e\\x8f\\x90\\x91\\x92\\x93\\x94\\x95\\x96\\x97\\x98\\x99\\x9a\\x9b\\x9c\\x9d\\x9e\\x9f')).toBe(true);
  });

  it('escapes line separators and bidi overrides, which reorder or split what is shown', () => {
    expect(escapeControls('a\u2028b\u202ec\u2066d')).toBe('a\\u2028b\\u202ec\\u2066d');
  });

  it('leaves printable text alone, non-ASCII included', () => {
    for (const text of ['web-1', 'zone=a,version=1.0', 'café', '服务', '🚀 launch', 'back\\slash']) expect(escapeControls(text)).toBe(text);
  });
});

describe('escapeJsonText', () => {
  it('writes DEL, C1 and bidi controls as \\u escapes; the document parses to the same value', () => {
    const value = { a: '\u009b2J\u007f\u202e\u2028', b: ['ok'] };
    const text = escapeJsonText(JSON.stringify(value, null, 2));
    expect(text).not.toMatch(/[\u007f-\u009f\u2028\u202e]/);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('escapes DEL in text that is otherwise ASCII, and returns plain ASCII as it is', () => {
    expect(escapeJsonText('{"a": "x\u007fy"}')).toBe('{"a": "x\\u007fy"}');
    const plain = JSON.stringify({ a: 'web-1', b: [1, 2] }, null, 2);
    expect(escapeJsonText(plain)).toBe(plain);
  });
});

describe('displayWidth', () => {
  // string-width is what cli-table3 measured cells with: the reference.
  it.each(['web-1', 'café', 'e\u0301t\u00e9', '服务-一', 'ｆｕｌｌ', '한국어', '🚀', 'a🚀b', 'Ωμέγα', 'ß', 'カタカナ', '\u00a0x'])('%s is as wide as string-width says', (text) => {
    expect(displayWidth(text)).toBe(stringWidth(text));
  });
});

describe('cut', () => {
  it('keeps text that fits', () => {
    expect(cut('abcdef', 6)).toBe('abcdef');
    expect(cut('服务', 4)).toBe('服务');
  });

  it('cuts to the width, ending in an ellipsis', () => {
    expect(cut('abcdefgh', 6)).toBe('abcde…');
    expect(displayWidth(cut('服务服务服务', 6))).toBeLessThanOrEqual(6);
    expect(cut('服务服务服务', 6)).toBe('服务…');
  });

  it('never splits a surrogate pair', () => {
    expect(cut('🚀🚀🚀🚀', 5)).toBe('🚀🚀…');
  });

  it('marks text the caller already shortened', () => {
    expect(cut('abc', 10, true)).toBe('abc…');
  });
});
