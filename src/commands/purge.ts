/**
 * `svcreg purge <service> | --all`: delete entries, showing them first. Asks on a
 * TTY; refuses without --yes otherwise. Each delete checks the entry's revision, so
 * nothing that changed after it was listed is deleted.
 */
import { entryCount, message, thousands, warn } from '../output/io.js';
import { printerFor } from '../output/printers.js';
import { PROGRESS_DELAY_MS, startSpinner } from '../output/spinner.js';
import { confirm } from '../output/prompt.js';
import { NotFoundError, UsageError } from '../index.js';
import type { CommandContext } from './context.js';

export interface PurgeOptions {
  all?: boolean;
  id?: string;
  malformed?: boolean;
  dryRun?: boolean;
  yes?: boolean;
}

export async function purge(ctx: CommandContext, service: string | undefined, options: PurgeOptions): Promise<number> {
  const format = ctx.format(['table', 'wide', 'json', 'ndjson', 'yaml', 'template']);
  if (service !== undefined && options.all) throw new UsageError('give a service or --all, not both');
  const selection = { service, all: options.all, id: options.id, malformedOnly: options.malformed };
  const printer = await printerFor(format, ctx.io);
  const entries = await ctx.registry.planPurge(selection);
  const where = service === undefined ? ctx.registry.prefix : `${ctx.registry.prefix}${service}/`;
  if (entries.length === 0) {
    if (format !== 'table') options.dryRun ? printer.purgePlan([]) : printer.purgeResult({ deleted: [], skipped: [] });
    // A typo in a script's cleanup step must not pass for a purge.
    const place = options.id === undefined ? `under ${where}` : `at ${where}${options.id}`;
    throw new NotFoundError(`nothing to delete ${place}`, options.malformed ? undefined : `svcreg list --instances shows what is under ${ctx.registry.prefix}`);
  }
  const what = `${entryCount(entries.length)} under ${where}`;
  if (options.dryRun) {
    printer.purgePlan(entries);
    message(ctx.io, `dry run: would delete ${what}`);
    return 0;
  }
  if (!options.yes) {
    if (!(ctx.io.stdinIsTTY && ctx.io.stderrIsTTY)) {
      throw new UsageError(`refusing to delete ${what} without --yes (not on a terminal)`, 'check with --dry-run, then pass --yes');
    }
    const preview = await printerFor('table', { ...ctx.io, stdout: ctx.io.stderr, color: ctx.io.stderrColor });
    preview.purgePlan(entries);
    // Not confirmed, as without --yes off a terminal: nothing deleted, exit 2.
    if (!(await confirm(ctx.io, `Delete ${what}?`))) throw new UsageError('nothing deleted: the answer was not yes', 'answer y to delete, or pass --yes');
  }
  const progress = startSpinner(ctx.io, `deleting ${what}`, PROGRESS_DELAY_MS);
  let result;
  try {
    result = await ctx.registry.purge(entries, { onProgress: (done) => progress.update(`deleted ${thousands(done)} of ${what}`) });
  } finally {
    progress.stop();
  }
  printer.purgeResult(result);
  if (result.skipped.length > 0) warn(ctx.io, `${entryCount(result.skipped.length)} changed after listing and were left alone`);
  message(ctx.io, `deleted ${thousands(result.deleted.length)} of ${what}`);
  return 0;
}
