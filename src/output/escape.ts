/**
 * Text from etcd shown on a terminal. Other writers share the prefix, so a key, tag or
 * message may carry ESC sequences (clear the screen, move the cursor, retitle the
 * window), C1 controls (which some terminals obey in UTF-8 too), newlines that split a
 * table row, or bidi controls that reorder what is shown. All of them are shown as
 * escapes instead.
 */

// C0, DEL, C1; zero-width and direction marks; line/paragraph separators and bidi embeddings, overrides and isolates.
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeOne(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/** `text` with every control character written as `\n`, `\x1b`, `\u202e`...: safe to print on a terminal. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, escapeOne);
}

// What JSON.stringify leaves raw: it escapes C0 only.
const UNSAFE_IN_JSON = /[\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const unicodeEscape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** JSON text with the characters above written as `\uXXXX` too: the same value, safe on a terminal. */
export function escapeJsonText(json: string): string {
  // Most output is ASCII without DEL, which two native scans tell faster than the regex (a listing's text runs to megabytes).
  if (Buffer.byteLength(json) === json.length && !json.includes('\x7f')) return json;
  return json.replace(UNSAFE_IN_JSON, unicodeEscape);
}
