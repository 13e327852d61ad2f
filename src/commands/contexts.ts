/**
 * `svcreg context list|use|show`: the config file's contexts, switching the current one,
 * and what a command would run with. None of them talks to etcd.
 */
import { message, warn } from '../output/io.js';
import type { CommandContext } from './context.js';
import type { Contexts, Password, Setting } from './settings.js';

const FORMATS = ['table', 'json', 'ndjson', 'yaml', 'template'] as const;

export async function listContexts(ctx: CommandContext, contexts: Contexts): Promise<number> {
  const format = ctx.format(FORMATS) as (typeof FORMATS)[number];
  const { printContexts } = await import('../output/contexts.js');
  const { selected } = contexts;
  const listed = contexts.list().map(({ name, ...entry }) => ({ name, current: name === selected.value, ...entry }));
  printContexts(ctx.io, format, { path: contexts.file, exists: contexts.exists }, listed);
  if (selected.value !== undefined && !listed.some((c) => c.current)) warn(ctx.io, `${selected.name} ${JSON.stringify(selected.value)} is not one of these contexts`);
  return 0;
}

export async function useContext(ctx: CommandContext, contexts: Contexts, name: string): Promise<number> {
  contexts.use(name);
  message(ctx.io, `switched to context ${JSON.stringify(name)} in ${contexts.file}`);
  // The file now says `name`, but the environment still decides what commands use.
  const { selected } = contexts;
  if (selected.source === 'env' && selected.value !== name) warn(ctx.io, `${selected.name} still selects context ${JSON.stringify(selected.value)}`);
  return 0;
}

export async function showContext(ctx: CommandContext, contexts: Contexts, name: string | undefined): Promise<number> {
  const format = ctx.format(FORMATS) as (typeof FORMATS)[number];
  const settings = contexts.resolve(name);
  const { printSettings } = await import('../output/contexts.js');
  const shown = Object.entries(settings).map(([setting, s]: [string, Setting<unknown>]) => ({ setting, value: display(s.value), source: s.source, name: s.name }));
  printSettings(ctx.io, format, { path: contexts.file, exists: contexts.exists }, settings.context.value, shown);
  return 0;
}

/** A setting's value as shown: a password only as set, or as the file it is read from. */
function display(value: unknown): string | string[] | null {
  if (value === undefined) return null;
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const password = value as Password;
  return 'text' in password ? '(set)' : `(set, read from ${password.file})`;
}
