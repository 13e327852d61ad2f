/**
 * Completion candidates, one per line, for the completion scripts. A shell inserts a
 * candidate into the command line as it is, and other writers choose the names in
 * etcd: only words that no shell would split, quote, expand or run are printed.
 */
import type { Io } from './io.js';

// Letters, marks and digits of any script, and . _ - + , : @ = : nothing bash, zsh or
// fish gives a meaning inside a word. Spaces, quotes, $ ` \ ; & | < > ( ) { } [ ] * ? ! # ~ ^ %
// and control or invisible formatting characters (bidi overrides) are left out.
const SAFE_WORD = /^[\p{L}\p{M}\p{N}._+,:@=-]+$/u;

/** Whether a shell takes `word` as one literal word. A leading `=` is zsh's path expansion. */
export function isSafeWord(word: string): boolean {
  return SAFE_WORD.test(word) && !word.startsWith('=');
}

/** Prints the candidates that extend `typed` and are safe words, each once. */
export function printCandidates(io: Io, candidates: readonly string[], typed: string): void {
  const lines = [...new Set(candidates)].filter((c) => c.startsWith(typed) && isSafeWord(c));
  if (lines.length > 0) io.stdout.write(`${lines.join('\n')}\n`);
}
