/** What every command receives from cli.ts: where to print, the registry, and process signals. */
import type { OutputFormat } from '../output/format.js';
import type { Io } from '../output/io.js';
import type { Registry } from '../index.js';
import type { Signal } from '../supervise/supervisor.js';

export type { Signal } from '../supervise/supervisor.js';

export interface CommandContext {
  io: Io;
  registry: Registry;
  /** `-o` (or SVCREG_OUTPUT, named as such when it is what does not fit), checked against what the command prints. */
  format(allowed: readonly OutputFormat[]): OutputFormat;
  /** Handles SIGINT/SIGTERM/SIGHUP instead of dying; returns a function that removes the handler. */
  onSignal(handler: (signal: Signal) => void): () => void;
  /** Replaces what happens when the reader of stdout goes away (by default: exit 0). */
  onStdoutClosed(handler: () => void): void;
}
