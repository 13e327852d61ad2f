/** `svcreg context list|use|show`: its subcommands, help and examples. */
import type { Command } from 'commander';
import type { Action } from './action.js';
import { openContexts, readsConfigOnly } from './globals.js';

const FILE_HELP = `
The config file is $XDG_CONFIG_HOME/svcreg/config.json (else ~/.config/svcreg/config.json),
or the file SVCREG_CONFIG names. Its contexts take the global options' names:

  {
    "current-context": "prod",
    "contexts": {
      "prod": { "endpoints": ["https://10.0.0.1:2379"], "prefix": "/services/", "timeout": "5s",
                "cacert": "ca.crt", "cert": "client.crt", "key": "client.key",
                "user": "svc", "password-file": "prod.password" },
      "local": { "endpoints": ["http://127.0.0.1:2379"] }
    }
  }

Relative paths are relative to the file's directory. The context in effect is --context,
else SVCREG_CONTEXT, else current-context; each setting comes from its flag, else its
environment variable, else the context, else the default. A "password" in clear is used
only if the file's mode is 0600 (no group or other bits); otherwise the command exits 2.`;

export function defineContext(program: Command, action: Action): void {
  const context = program
    .command('context')
    .description('named contexts from the config file (endpoints, prefix, TLS, user): list, use, show')
    .addHelpText('after', `${FILE_HELP}\n\nExamples:\n  svcreg context list\n  svcreg context use prod\n  svcreg --context staging discover web\n  svcreg context show`);
  const load = () => import('../commands/contexts.js');
  readsConfigOnly(
    context
      .command('list')
      .description('list the contexts; * marks the one in effect')
      .addHelpText('after', '\nExamples:\n  svcreg context list\n  svcreg context list -o json')
      .action(action(async (ctx) => (await load()).listContexts(ctx, openContexts(program, ctx.io)))),
  );
  readsConfigOnly(
    context
      .command('use')
      .description("make NAME the config file's current-context (the file is rewritten atomically, its mode kept)")
      .argument('<name>', 'context name')
      .addHelpText('after', '\nExamples:\n  svcreg context use prod\n  SVCREG_CONTEXT=staging svcreg list   # one command in another context')
      .action(action(async (ctx, name: string) => (await load()).useContext(ctx, openContexts(program, ctx.io), name))),
  );
  readsConfigOnly(
    context
      .command('show')
      .description('the settings a command would run with in context NAME (default: the one in effect), and where each comes from')
      .argument('[name]', 'context name')
      .addHelpText('after', '\nPasswords are never printed: only "(set)".\n\nExamples:\n  svcreg context show\n  svcreg context show prod -o json\n  svcreg --endpoints http://127.0.0.1:2379 context show prod   # flags win')
      .action(action(async (ctx, name: string | undefined) => (await load()).showContext(ctx, openContexts(program, ctx.io), name))),
  );
}
