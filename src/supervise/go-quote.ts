/**
 * Bytes quoted as Go's `%q` (strconv.Quote) quotes them: how `etcdctl watch -- cmd` puts
 * keys and values into its command's environment (ETCD_WATCH_KEY="..."), so a handler
 * written for etcdctl reads the same text from svcreg. What the result holds is printable:
 * never a NUL, a newline or invalid UTF-8.
 */

const SHORT_ESCAPES: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols, and the ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

const isContinuation = (b: number | undefined) => b !== undefined && b >= 0x80 && b <= 0xbf;

/**
 * The rune at `i` and its width, as Go's utf8.DecodeRune reads it; undefined for a byte
 * that does not start a valid sequence (overlong forms and surrogates included).
 */
function decodeRune(bytes: Uint8Array, i: number): [number, number] | undefined {
  const b0 = bytes[i];
  if (b0 < 0x80) return [b0, 1];
  // The second byte's range depends on the first; the rest are plain continuation bytes.
  const [width, low, high] =
    b0 >= 0xc2 && b0 <= 0xdf ? [2, 0x80, 0xbf]
    : b0 === 0xe0 ? [3, 0xa0, 0xbf]
    : b0 === 0xed ? [3, 0x80, 0x9f]
    : b0 >= 0xe1 && b0 <= 0xef ? [3, 0x80, 0xbf]
    : b0 === 0xf0 ? [4, 0x90, 0xbf]
    : b0 >= 0xf1 && b0 <= 0xf3 ? [4, 0x80, 0xbf]
    : b0 === 0xf4 ? [4, 0x80, 0x8f]
    : [0, 0, 0];
  if (width === 0 || !(bytes[i + 1] >= low && bytes[i + 1] <= high)) return undefined;
  for (let k = 2; k < width; k++) if (!isContinuation(bytes[i + k])) return undefined;
  const lead = b0 & (0xff >> (width + 1));
  let rune = lead;
  for (let k = 1; k < width; k++) rune = (rune << 6) | (bytes[i + k] & 0x3f);
  return [rune, width];
}

const hex = (n: number, digits: number) => n.toString(16).padStart(digits, '0');

function escapeRune(rune: number): string {
  const char = String.fromCodePoint(rune);
  if (rune === 0x22 || rune === 0x5c) return `\\${char}`;
  if (rune === 0x20 || (rune > 0x20 && rune !== 0x7f && PRINTABLE.test(char))) return char;
  if (SHORT_ESCAPES[rune]) return SHORT_ESCAPES[rune];
  if (rune < 0x20 || rune === 0x7f) return `\\x${hex(rune, 2)}`;
  return rune < 0x10000 ? `\\u${hex(rune, 4)}` : `\\U${hex(rune, 8)}`;
}

/** `bytes` as a double-quoted Go string literal. */
export function goQuote(bytes: Uint8Array): string {
  let out = '"';
  for (let i = 0; i < bytes.length; ) {
    const decoded = decodeRune(bytes, i);
    if (!decoded) {
      out += `\\x${hex(bytes[i], 2)}`;
      i += 1;
      continue;
    }
    out += escapeRune(decoded[0]);
    i += decoded[1];
  }
  return `${out}"`;
}
