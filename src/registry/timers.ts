/** Retry pacing and deadlines shared by the transports, the watch stream and the lease keepalive. */

const BACKOFF_MIN_MS = 200;
const BACKOFF_MAX_MS = 5000;

/** Jittered exponential backoff: the pause before retry number `attempt` (from 0), capped at 5 s. */
export function backoffMs(attempt: number, maxMs = BACKOFF_MAX_MS): number {
  const cap = Math.min(maxMs, BACKOFF_MIN_MS * 2 ** Math.min(attempt, 20));
  return Math.round(cap / 2 + (Math.random() * cap) / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Rejects with `onTimeout()` if `promise` has not settled by the `at` timestamp. */
export function withTimer<T>(promise: Promise<T>, at: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), Math.max(0, at - Date.now()));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
