/**
 * `svcreg context list` and `svcreg context show`, as a table or as data. What reaches
 * them holds no password: only whether one is set.
 */
import { Chalk } from 'chalk';
import { StreamingTable } from './columns.js';
import { writeDocument, writeItems, type DataFormat } from './data.js';
import { message, type Io } from './io.js';

/** A context as listed, with the config file's key names; `current`: the one commands would use. */
export interface ListedContext {
  name: string;
  current: boolean;
  endpoints?: string[];
  prefix?: string;
  user?: string;
  /** Whether it holds a password in clear. */
  password: boolean;
}

/** One setting as `show` prints it: its value for display, and where it came from. */
export interface ShownSetting {
  setting: string;
  value: string | string[] | null;
  source: string;
  name?: string;
}

export type ContextsFormat = 'table' | DataFormat;

/** Where the config file is, and whether there is one. */
export interface ConfigFileName {
  path: string;
  exists: boolean;
}

function table(io: Io, heads: string[]): StreamingTable {
  const bold = new Chalk({ level: io.color ? 1 : 0 }).bold;
  return new StreamingTable(io.stdout, heads.map((head) => ({ head })), { wide: false, paintHead: bold });
}

/** kubectl's `config get-contexts`: a * in CURRENT marks the context in effect. */
export function printContexts(io: Io, format: ContextsFormat, file: ConfigFileName, contexts: ListedContext[]): void {
  if (format !== 'table') return writeItems(io, format, contexts);
  if (contexts.length === 0) return message(io, file.exists ? `no contexts in ${file.path}` : `no config file ${file.path}`);
  table(io, ['CURRENT', 'NAME', 'ENDPOINTS', 'PREFIX', 'USER']).write(
    contexts.map((c) => [c.current ? '*' : '', c.name, c.endpoints?.join(',') ?? '-', c.prefix ?? '-', c.user ?? '-']),
  );
}

/** Each setting with its value and source; in data, an object keyed by setting. */
export function printSettings(io: Io, format: ContextsFormat, file: ConfigFileName, context: string | undefined, settings: ShownSetting[]): void {
  if (format !== 'table') {
    const bySetting = Object.fromEntries(settings.map(({ setting, ...rest }) => [setting, rest]));
    return writeDocument(io, format, { file: file.path, exists: file.exists, context: context ?? null, settings: bySetting });
  }
  table(io, ['SETTING', 'VALUE', 'SOURCE']).write(
    settings.map((s) => [s.setting, Array.isArray(s.value) ? s.value.join(',') : (s.value ?? '-'), sourceText(s, context)]),
  );
}

/** `flag --prefix`, `env SVCREG_ENDPOINTS`, `context prod`, `context prod password-file`, `default`. */
function sourceText(s: ShownSetting, context: string | undefined): string {
  switch (s.source) {
    case 'flag':
    case 'env':
    case 'config':
      return `${s.source} ${s.name}`;
    case 'context':
      return `context ${context}${s.name === s.setting ? '' : ` ${s.name}`}`;
    default:
      return s.source;
  }
}
