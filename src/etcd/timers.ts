/**
 * Retry pacing and the monotonic clock shared by deadlines (deadline.ts), the watch
 * stream and the lease keepalive. Every span and deadline is on a monotonic clock: a wall clock stepped back
 * an hour (NTP, a VM resumed) must not stretch a TTL or a timeout by an hour.
 */

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

/** Now, in milliseconds on a monotonic clock: what deadlines and time spans are measured in. */
export function monotonicMs(): number {
  return performance.now();
}

/** Milliseconds left until the monotonic `deadline`; 0 once it has passed. */
export function msUntil(deadline: number): number {
  return Math.max(0, deadline - monotonicMs());
}
