/** An ora spinner on stderr, only when stderr is a TTY; otherwise nothing at all. */
import type { Io } from './io.js';

export interface Spinner {
  stop(): void;
}

export async function startSpinner(io: Io, text: string): Promise<Spinner> {
  if (!io.stderrIsTTY) return { stop() {} };
  const { default: ora } = await import('ora');
  const spinner = ora({ text, stream: io.stderr as NodeJS.WriteStream, color: io.stderrColor ? 'cyan' : false, isEnabled: true }).start();
  return { stop: () => spinner.stop() };
}
