/**
 * `-o yaml`: the values -o json prints, as YAML, by the `yaml` package. Strings come
 * from etcd, so none may forge a key, a list item or a document, nor put a control
 * character on a terminal: a string that holds one (a newline, ESC, C1, a bidi control)
 * is double-quoted, where YAML has escapes for all of them, and written with them escaped.
 */
import type * as Yaml from 'yaml';
import { escapeControls } from './escape.js';
import { lazyRequire } from './lazy-require.js';

const yaml = lazyRequire<typeof Yaml>('yaml', () => require('yaml'));

/** Outside double quotes, these characters could not be written escaped. */
const needsEscapes = (text: string) => escapeControls(text) !== text;

/** `value` as one YAML document (no `---`), ending in a newline. */
export function yamlText(value: unknown): string {
  const { Document, visit } = yaml();
  // No anchors and aliases (&a1, *a1) for an object met twice: a script wants the value each time.
  const doc = new Document(value, { aliasDuplicateObjects: false });
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && needsEscapes(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  // lineWidth 0: no folding, so a value never spans lines and every line break is YAML's own.
  // The library escapes C0 controls in double quotes but leaves DEL, C1 and bidi controls raw:
  // escapeControls writes them as \x7f, \u202e..., which are YAML escapes too. Lines hold no \n.
  return doc.toString({ lineWidth: 0 }).replace(/[^\n]+/g, escapeControls);
}
