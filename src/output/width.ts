/**
 * How many terminal columns text takes, to align table cells and cut them short.
 * Small on purpose: ASCII (nearly every cell) is its length; otherwise combining marks
 * count 0 and East Asian wide characters and emoji 2. test/unit/escape.test.ts holds
 * it against string-width, which cli-table3 used.
 */

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u200b-\u200f\u2060\ufe00-\ufe0f]$/u;
const DOUBLE_WIDTH =
  /^[\p{Emoji_Presentation}\u1100-\u115f\u231a\u231b\u2329\u232a\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19\ufe30-\ufe6f\uff00-\uff60\uffe0-\uffe6\u{1b000}-\u{1b2ff}\u{20000}-\u{3fffd}]$/u;

const ELLIPSIS = '…';

function charWidth(c: string): number {
  return ZERO_WIDTH.test(c) ? 0 : DOUBLE_WIDTH.test(c) ? 2 : 1;
}

/** Columns `text` takes on a terminal; `text` holds no control characters (escape.ts). */
export function displayWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length;
  let width = 0;
  for (const c of text) width += charWidth(c);
  return width;
}

/**
 * `text` cut to at most `max` columns, ending in "…" when something was cut (or when
 * `cutAlready`: the caller dropped the rest before). Never splits a surrogate pair.
 */
export function cut(text: string, max: number, cutAlready = false): string {
  if (PRINTABLE_ASCII.test(text)) {
    if (text.length <= max && !cutAlready) return text;
    return `${text.slice(0, Math.min(text.length, max - 1))}${ELLIPSIS}`;
  }
  let width = 0;
  let end = 0;
  for (const c of text) {
    const w = charWidth(c);
    if (width + w > max - 1) {
      // What is left may still fit whole.
      if (!cutAlready && width + displayWidth(text.slice(end)) <= max) return text;
      return `${text.slice(0, end)}${ELLIPSIS}`;
    }
    width += w;
    end += c.length;
  }
  return cutAlready ? `${text}${ELLIPSIS}` : text;
}
