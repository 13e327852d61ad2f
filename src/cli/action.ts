/** What each subcommand's definition is given: how its command module is run, and shared option parsers. */
import type { Command } from 'commander';
import type { CommandContext } from '../commands/context.js';

/**
 * Makes a commander action that resolves the context, loads the command's module and
 * runs it, handing the exit code's promise to main.ts.
 */
export type Action = <A extends unknown[]>(load: (ctx: CommandContext, ...args: A) => Promise<number>) => (this: Command, ...args: unknown[]) => Promise<void>;

/** A repeatable option: each value joins the list. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
