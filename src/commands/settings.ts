/**
 * The connection settings a command runs with, each with where it came from, and the
 * config file's contexts as `svcreg context` sees them. The CLI layer resolves them
 * (cli/settings.ts) and reads the file (cli/config.ts); these are the shapes it hands down.
 */

/**
 * Where a value came from, strongest first: the NAME of `context show NAME`, a flag, the
 * environment, the config file's current-context, the selected context, or the default.
 */
export type SettingSource = 'argument' | 'flag' | 'env' | 'config' | 'context' | 'default';

export interface Setting<T> {
  value: T;
  source: SettingSource;
  /** The flag, environment variable or config key it was read from; none for a default. */
  name?: string;
}

/** A password: the file it is read from, or its text (from SVCREG_PASSWORD or the context). */
export type Password = { file: string } | { text: string };

export interface Settings {
  /** The context in effect, if any. */
  context: Setting<string | undefined>;
  endpoints: Setting<string[]>;
  prefix: Setting<string>;
  /** As written (`5s`); parsed where it is used. */
  timeout: Setting<string>;
  cacert: Setting<string | undefined>;
  cert: Setting<string | undefined>;
  key: Setting<string | undefined>;
  user: Setting<string | undefined>;
  password: Setting<Password | undefined>;
}

/** One context of the config file, checked, with the file's key names; paths made absolute. */
export interface ContextEntry {
  endpoints?: string[];
  prefix?: string;
  timeout?: string;
  cacert?: string;
  cert?: string;
  key?: string;
  user?: string;
  'password-file'?: string;
  password?: string;
}

/** A context as listed: its name, and whether it holds a password, never the password. */
export type ContextSummary = Omit<ContextEntry, 'password'> & { name: string; password: boolean };

/** What `svcreg context` works on: the config file, read and checked. */
export interface Contexts {
  /** Where the file is, or would be. */
  readonly file: string;
  readonly exists: boolean;
  /** The context in effect: --context, else SVCREG_CONTEXT, else the file's current-context. */
  readonly selected: Setting<string | undefined>;
  /** Every context, in the file's order. */
  list(): ContextSummary[];
  /** The settings a command would run with in context `name` (by default the selected one). */
  resolve(name?: string): Settings;
  /** Makes `name` the file's current-context. */
  use(name: string): void;
}
