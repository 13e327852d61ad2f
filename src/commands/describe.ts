/** `svcreg describe <service> <id>`: one instance in full; exit 4 when it is not registered. */
import { printDescription } from '../output/describe.js';
import type { CommandContext } from './context.js';

export async function describe(ctx: CommandContext, service: string, id: string): Promise<number> {
  const format = ctx.format(['table', 'wide', 'json', 'ndjson', 'yaml', 'template']);
  printDescription(ctx.io, format, await ctx.registry.describe(service, id));
  return 0;
}
