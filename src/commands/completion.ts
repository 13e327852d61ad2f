/** `svcreg completion bash|zsh|fish`: the shell's completion script, on stdout. */
import { completionScript, type Shell } from '../output/completion-scripts.js';
import type { Io } from '../output/io.js';

export async function completion(io: Io, shell: Shell): Promise<number> {
  io.stdout.write(completionScript(shell));
  return 0;
}
