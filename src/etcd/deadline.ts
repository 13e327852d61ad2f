/**
 * The deadline of one request or stream, made in one place (Connection) and obeyed by the
 * transports: they send `at` to etcd (gRPC's grpc-timeout) and free their socket or stream
 * when `signal` aborts. The rejection the caller sees comes from `expired` alone, so no
 * transport arms a timer of its own and no request outlives its deadline.
 */
import { monotonicMs, msUntil } from './timers.js';

export class Deadline {
  /** Rejects with the error given when the deadline passes; never settles once disposed. */
  readonly expired: Promise<never>;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  /** A deadline at the monotonic instant `at` (timers.ts `monotonicMs()`). */
  constructor(readonly at: number, onExpiry: () => Error) {
    this.expired = new Promise<never>((_, reject) => {
      this.timer = setTimeout(() => {
        const error = onExpiry();
        this.controller.abort(error);
        reject(error);
      }, msUntil(at));
    });
    // Nobody may be racing it when it fires after its request failed on its own.
    this.expired.catch(() => undefined);
  }

  /** A deadline `ms` from now. */
  static in(ms: number, onExpiry: () => Error): Deadline {
    return new Deadline(monotonicMs() + ms, onExpiry);
  }

  /** Aborts when the deadline passes: release what the request holds. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Milliseconds left, at least 1: what etcd is told in grpc-timeout. */
  get msLeft(): number {
    return Math.max(1, Math.ceil(msUntil(this.at)));
  }

  /** `promise`, or the deadline's error if it comes first. */
  race<T>(promise: Promise<T>): Promise<T> {
    return Promise.race([promise, this.expired]);
  }

  /** The request is over: the deadline will not fire. */
  dispose(): void {
    clearTimeout(this.timer);
  }
}
