/**
 * An ora spinner on stderr, only when stderr is a TTY; otherwise nothing at all.
 * It appears after `delayMs`, so a command that finishes quickly never flashes one.
 */
import type { Io } from './io.js';

export interface Spinner {
  /** Replaces the text beside the spinner (progress: "read 15,000 entries"). */
  update(text: string): void;
  stop(): void;
}

/** How long a listing or purge runs before it shows progress. */
export const PROGRESS_DELAY_MS = 300;

export function startSpinner(io: Io, text: string, delayMs = 0): Spinner {
  // A terminal of no width (a bare pty) would make ora clear lines without end.
  if (!io.stderrIsTTY || !(io.stderr as NodeJS.WriteStream).columns) return { update() {}, stop() {} };
  let current = text;
  let stopped = false;
  let spinner: { text: string; stop(): void } | undefined;
  const timer = setTimeout(() => {
    import('ora').then(
      ({ default: ora }) => {
        if (stopped) return;
        // discardStdin would put the terminal in raw mode without reading it, so Ctrl-C
        // would reach nobody: the terminal's own SIGINT has to stay on.
        spinner = ora({ text: current, stream: io.stderr as NodeJS.WriteStream, color: io.stderrColor ? 'cyan' : false, isEnabled: true, discardStdin: false }).start();
      },
      () => undefined, // progress is a nicety: without ora, none is shown
    );
  }, delayMs);
  return {
    update(next) {
      current = next;
      if (spinner) spinner.text = next;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      spinner?.stop();
    },
  };
}

/** Passes `pages` through and stops `spinner` once the last is read: before a table, which waits for all of them, prints. */
export async function* stopAfterLastPage<T>(pages: AsyncIterable<T>, spinner: Spinner | undefined): AsyncGenerator<T> {
  try {
    yield* pages;
  } finally {
    spinner?.stop();
  }
}
