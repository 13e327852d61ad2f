/** Durations as a person writes them, and as --timeout, --drain and --wait-timeout accept them. */

/** 250 -> "250ms", 5000 -> "5s", 1500 -> "1.5s", 90000 -> "1m30s", 3600000 -> "1h". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${Number(s.toFixed(3))}s` : ''}`;
}
