/**
 * Templates, in Liquid (LiquidJS): `-o template` now, and the engine `render` is to use.
 * Liquid runs no code of the template's or of the data's: a template reaches only the
 * fields of the data it is given (never their prototypes), and a value from etcd is
 * inserted as text, never read as template syntax. Unknown filters and tags are errors
 * when the template is compiled; an unknown variable is empty, as in Liquid everywhere.
 */
import type * as LiquidJs from 'liquidjs';
import { UsageError } from '../registry/errors.js';
import { escapeControls } from './escape.js';
import { lazyRequire } from './lazy-require.js';

const liquidjs = lazyRequire<typeof LiquidJs>('liquidjs', () => require('liquidjs'));

export interface Template {
  /**
   * The text the template gives for `data` (its fields are the template's variables).
   * With `escapeValues` (output to a terminal), what comes from the data is shown with
   * its control characters escaped, as tables show it; the template's own text, and the
   * line breaks it writes (`{{ "\n" }}` too), are kept.
   */
  render(data: object, escapeValues: boolean): string;
}

/** The data as a table shows it: every string escaped, keys too (metadata's come from etcd). */
function escapeData(value: unknown): unknown {
  if (typeof value === 'string') return escapeControls(value);
  if (Array.isArray(value)) return value.map(escapeData);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [escapeControls(key), escapeData(v)]));
}

/**
 * What a `{{ }}` prints on a terminal, strings in lists too: control characters escaped,
 * but for the line breaks and tabs the template writes. The data's own were escaped
 * before (escapeData): this catches what a filter makes of it (url_decode, base64_decode).
 */
function escapeOutputStrings(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/[^\n\t]+/g, escapeControls);
  return Array.isArray(value) ? value.map(escapeOutputStrings) : value;
}

/**
 * Typed as returning a string, but Liquid prints whatever it returns as any value
 * (a list joined, nil empty): what comes back is the value, so the text stays Liquid's.
 */
const escapeOutput = escapeOutputStrings as (value: unknown) => string;

const engines = new Map<boolean, LiquidJs.Liquid>();

function engine(escapeValues: boolean): LiquidJs.Liquid {
  let liquid = engines.get(escapeValues);
  if (!liquid) {
    liquid = new (liquidjs().Liquid)({
      strictFilters: true,
      // Fixed, so dates print the same on every machine; and asking Intl for the system's loads ICU data (15 ms).
      locale: 'en-US',
      // The default; said here because the data comes from other writers: no `{{ x.constructor }}`.
      ownPropertyOnly: true,
      ...(escapeValues && { outputEscape: escapeOutput }),
    });
    // Liquid's `raw` skips the output escape: on a terminal nothing from etcd may.
    if (escapeValues) liquid.registerFilter('raw', (value: unknown) => value);
    engines.set(escapeValues, liquid);
  }
  return liquid;
}

/** A LiquidError as a usage error, with the library's message: it names the line and column (and the file). */
function usageError(err: unknown, what: string, hint?: string): unknown {
  return liquidjs().LiquidError.is(err) ? new UsageError(`${what}: ${err.message}`, hint) : err;
}

/**
 * Parses `source` now, so a template that does not parse is a usage error (exit 2)
 * before anything is read from etcd. `file` is where it came from, for its messages.
 */
export function compileTemplate(source: string, file?: string): Template {
  const parsed = new Map<boolean, LiquidJs.Template[]>();
  const parse = (escapeValues: boolean) => {
    let templates = parsed.get(escapeValues);
    if (!templates) {
      try {
        templates = engine(escapeValues).parse(source, file);
      } catch (err) {
        throw usageError(err, 'invalid template', 'templates are Liquid: {{ field }}, {% for i in items %}...{% endfor %}');
      }
      parsed.set(escapeValues, templates);
    }
    return templates;
  };
  parse(false);
  return {
    render(data, escapeValues) {
      const templates = parse(escapeValues);
      try {
        return String(engine(escapeValues).renderSync(templates, escapeValues ? (escapeData(data) as object) : data));
      } catch (err) {
        throw usageError(err, 'template failed');
      }
    },
  };
}
