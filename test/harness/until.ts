/**
 * Polls `check` every 50 ms until it gives something other than `false` or `undefined`, and
 * returns that; throws `timed out: <what>` once `timeoutMs` has passed.
 */
export async function until<T>(what: string, check: () => T | false | undefined | Promise<T | false | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
