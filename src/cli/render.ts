/** `svcreg render`: its options, help and examples. */
import { Option, type Command } from 'commander';
import type { RenderCommandOptions } from '../commands/render.js';
import type { Action } from './action.js';

export function defineRender(program: Command, action: Action): void {
  program
    .command('render')
    .description('keep a file rendered from the registry (a Liquid template, or Prometheus file_sd JSON), as consul-template and confd do')
    .argument('[template]', 'Liquid template file (not with --format prometheus)')
    .requiredOption('--out <file>', 'the file to keep current: replaced atomically, its mode kept, only when its text changes')
    .addOption(new Option('--format <format>', 'what to write').choices(['template', 'prometheus']).default('template'))
    .option('--check <command>', 'run with sh -c before installing, SVCREG_RENDERED naming the staged file; installed only if it exits 0')
    .option('--exec <command>', 'run with sh -c after each install (SVCREG_RENDERED names the file), e.g. a reload')
    .option('--wait <min[:max]>', 'render once the registry was quiet for min, at most max after a change (default max: 4 x min)')
    .option('--once', 'render once and exit (exit 3 when etcd is unreachable, 1 when --check or --exec fails)')
    .addHelpText(
      'after',
      `
The template sees: prefix, revision, services (sorted by name; each has name, instances: the
passing ones, all: every instance with its health) and service["<name>"]. Each instance has its
stored fields (service_id, address, port, tags, metadata, health...) plus id and addr (host:port).

Examples:
  svcreg render upstreams.liquid --out /etc/nginx/conf.d/upstreams.conf \\
    --check 'nginx -t -q -c "$SVCREG_RENDERED"' --exec 'nginx -s reload' --wait 2s:10s
  svcreg render --format prometheus --out /etc/prometheus/targets/svcreg.json
  svcreg render hosts.liquid --out hosts.txt --once`,
    )
    .action(action(async (ctx, template: string | undefined, opts: RenderCommandOptions) => (await import('../commands/render.js')).render(ctx, template, opts)));
}
