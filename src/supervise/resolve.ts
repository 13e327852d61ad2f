/**
 * The command of `register -- command` (or `watch -- command`), found before anything is
 * registered (or watched), so a typo is never advertised: exit 127, as a shell says
 * "command not found".
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { SvcregError } from '../registry/errors.js';

/** The command cannot be started: it does not exist, or is not an executable file. */
export class CommandNotFoundError extends SvcregError {}

/**
 * Checks that `name` can be run, looking it up in `path` as execvp does when it has no `/`;
 * `notDone` says what was not done for it, in the hint.
 */
export function resolveCommand(name: string, notDone = 'nothing was registered', path = process.env.PATH ?? ''): void {
  const hint = `${notDone}; check the command name and PATH`;
  if (name.includes('/')) {
    const problem = executableProblem(name);
    if (problem) throw new CommandNotFoundError(`cannot run ${name}: ${problem}`, hint);
  } else if (name === '' || !path.split(delimiter).some((dir) => !executableProblem(join(dir, name)))) {
    throw new CommandNotFoundError(`cannot run ${name}: not found in PATH`, hint);
  }
}

/** Why `file` cannot be run, or undefined when it can. */
function executableProblem(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return 'not a file';
    accessSync(file, constants.X_OK);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not executable';
  }
}
