/**
 * The command of `watch -- command`, run once per event, one at a time, with the event's
 * ndjson object on stdin and in its environment (event-env.ts). A handler that fails is
 * reported on stderr and the watch goes on. Stop signals:
 *
 *   watching ─signal─> finishing: no event is read further; a running handler finishes
 *            ─signal─> interrupting: the signal is passed on to it, SIGKILL after the kill timeout
 *
 * The handler runs in a session of its own: a Ctrl-C at the terminal reaches svcreg alone,
 * so the first one can wait for the handler and the second one is passed on.
 */
import { jsonText } from '../output/data.js';
import { formatDuration } from '../output/duration.js';
import { message, warn, type Io } from '../output/io.js';
import { watchEventJson } from '../output/json.js';
import type { ChangeEvent } from '../index.js';
import { Child, signalExitCode, type Signal } from './child.js';
import { handlerEnv } from './event-env.js';

export interface EventHandlerOptions {
  command: string[];
  /** How long a signalled handler has to exit before SIGKILL. */
  killTimeoutMs: number;
  /** --handler-timeout: a handler still running this long is sent SIGTERM (then SIGKILL). */
  timeoutMs?: number;
  io: Io;
}

/** The event as stderr names it; what it quotes from etcd is escaped by `message`. */
const named = (event: ChangeEvent) => `${event.type} ${event.key} at revision ${event.revision}`;

export class EventHandler {
  private readonly stopping = new AbortController();
  /** Aborts on the first stop signal: no further event is to be handled. */
  readonly stopped = this.stopping.signal;
  private interrupted: Signal | undefined;
  private running: { child: Child; event: ChangeEvent } | undefined;

  constructor(private readonly options: EventHandlerOptions) {}

  /** A stop signal to svcreg: the first stops the watch, the next ones go to the running handler. */
  signal(signal: Signal): void {
    if (!this.stopped.aborted) {
      this.stopping.abort();
      if (this.running) message(this.options.io, `waiting for the handler of ${named(this.running.event)} to finish (signal again to stop it)`);
      return;
    }
    this.interrupted ??= signal;
    this.running?.child.stop(signal, this.options.killTimeoutMs);
  }

  /** svcreg's exit code: 0, or 128+n when a second signal n cut the wait short. */
  exitCode(): number {
    return this.interrupted ? signalExitCode(this.interrupted) : 0;
  }

  /** Runs the command for `event`; resolves once it has exited. A failure is reported, never thrown. */
  async handle(event: ChangeEvent): Promise<void> {
    const { command, io, timeoutMs, killTimeoutMs } = this.options;
    const { env, dropped } = handlerEnv(event);
    for (const variable of dropped) warn(io, `${variable} left out of the environment of the handler of ${named(event)}; it has the event on stdin`);
    let startError: Error | undefined;
    const input = `${jsonText(watchEventJson(event))}\n`;
    const child = new Child(command, env, (err) => (startError = err), { input, ownGroup: true });
    this.running = { child, event };
    let timedOut = false;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.stop('SIGTERM', killTimeoutMs);
          }, timeoutMs);
    try {
      const code = await child.exited;
      if (code === 0 && !timedOut) return;
      const outcome = startError ? `cannot run ${command[0]}: ${startError.message}` : child.killedBy ? `killed by ${child.killedBy}` : `exit code ${code}`;
      message(io, `handler failed on ${named(event)}: ${timedOut ? `timed out after ${formatDuration(timeoutMs!)}, then ${outcome}` : outcome}`);
    } finally {
      clearTimeout(timer);
      this.running = undefined;
    }
  }
}
