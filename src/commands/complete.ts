/**
 * `svcreg __complete -- <words...>`, which the completion scripts call: the candidates
 * for the last word, one per line. Names come from etcd within a short deadline; when
 * etcd is down, slow or denies, nothing is printed, not an error in the middle of the
 * user's command line.
 */
import { printCandidates } from '../output/candidates.js';
import { SHELL_DEFAULT_STATUS } from '../output/completion-scripts.js';
import type { Io } from '../output/io.js';
import type { CommandContext } from './context.js';
import { abortable } from './interrupt.js';

/** What the word being completed can be, as read from the program's commands and options. */
export type Completing =
  | { kind: 'fixed'; values: readonly string[] }
  | { kind: 'services' }
  | { kind: 'instances'; service: string }
  /** A file name or another value svcreg cannot guess: the shell's own completion. */
  | { kind: 'shell' };

export interface CompletionRequest {
  /** The word being completed, as typed so far. */
  word: string;
  /** What each candidate starts with before the value itself: `--id=` for `--id=we`. */
  lead: string;
  completing: Completing;
}

/**
 * `open` makes the context the command would run in (the global options typed and the
 * SVCREG_* environment), with no password prompt; names not read within `deadlineMs` are
 * not offered.
 */
export async function complete(io: Io, request: CompletionRequest, open: () => Promise<CommandContext>, deadlineMs: number): Promise<number> {
  const { completing, lead, word } = request;
  if (completing.kind === 'shell') return SHELL_DEFAULT_STATUS;
  let values: readonly string[] = [];
  if (completing.kind === 'fixed') values = completing.values;
  else {
    const typed = word.slice(lead.length);
    const lookup = async () => {
      const { registry } = await open();
      return completing.kind === 'services' ? registry.serviceNames(typed) : registry.instanceIds(completing.service, typed);
    };
    try {
      values = await abortable(lookup(), AbortSignal.timeout(deadlineMs));
    } catch {
      // Unreachable, too slow, denied, or a name that cannot be one: nothing to offer.
    }
  }
  printCandidates(io, values.map((v) => lead + v), word);
  return 0;
}
