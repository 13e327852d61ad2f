/**
 * `svcreg completion bash|zsh|fish`: its help and examples; and the hidden
 * `svcreg __complete -- <words...>` its scripts call back. Neither opens a registry to
 * start with: only completing a service name or an instance id does, and then with the
 * global options typed on the line, as the command itself would.
 */
import { Argument, type Command } from 'commander';
import { SHELLS, type Shell } from '../output/completion-scripts.js';
import { processIo } from '../output/io.js';
import { readTypedLine } from './completion-request.js';
import { commandContext, type Process } from './globals.js';

/** The most etcd may take to name services or instances: a TAB must never hang (--timeout is 5 s). */
const DEADLINE_MS = 800;

export function defineCompletion(program: Command, proc: Process, setResult: (code: Promise<number>) => void): void {
  program
    .command('completion')
    .description('print the shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'the shell to complete for').choices(SHELLS))
    .addHelpText(
      'after',
      `
Completes commands, options, option values with fixed choices (-o, --pick, --on-lost, ...),
service names and, after --id, instance ids. Names are read from etcd with the global options
typed on the line (--endpoints, --prefix, TLS, --user with SVCREG_PASSWORD) and the SVCREG_*
environment, within ${DEADLINE_MS} ms; nothing is offered when etcd does not answer. File names where
an option takes one.

Examples:
  source <(svcreg completion bash)                       # this shell; put it in ~/.bashrc to keep it
  svcreg completion bash > ~/.local/share/bash-completion/completions/svcreg
  svcreg completion zsh > "\${fpath[1]}/_svcreg"          # zsh with compinit; or source <(svcreg completion zsh)
  svcreg completion fish > ~/.config/fish/completions/svcreg.fish`,
    )
    .action((shell: Shell) => setResult(import('../commands/completion.js').then(({ completion }) => completion(processIo(false), shell))));

  program
    .command('__complete', { hidden: true })
    .description('the candidates for the last word, one per line (for the completion scripts)')
    .argument('[words...]', 'what follows svcreg up to the cursor; the last is the word being completed')
    // The words are the user's line, not this command's options.
    .helpOption(false)
    .allowUnknownOption()
    .action(function (this: Command, words: string[]) {
      const { request, globals } = readTypedLine(program, words);
      const open = () => {
        // Typed on the line, so they win over the SVCREG_* environment, as for the command itself.
        program.parseOptions(globals);
        return commandContext(this, proc, { noPrompt: true, maxTimeoutMs: DEADLINE_MS });
      };
      setResult(import('../commands/complete.js').then(({ complete }) => complete(processIo(false), request, open, DEADLINE_MS)));
    });
}
