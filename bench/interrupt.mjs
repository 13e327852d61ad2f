// A benchmark stopped by Ctrl-C or a kill leaves nothing behind: etcd's data is in /dev/shm,
// memory until it is removed (hundreds of MB after the 100,000-instance listing), and a
// watcher or renderer whose etcd is gone would retry for ever. Importing this module installs
// the handlers; without them, a signal ends Node before any `finally` runs.
import { once } from 'node:events';
import { rmSync } from 'node:fs';

const children = new Set();
const paths = new Set();

/** `child`, killed (SIGKILL) if the run is interrupted. */
export function started(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** `path`, removed if the run is interrupted (once the children are gone). */
export function scratch(path) {
  paths.add(path);
  return path;
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.once(signal, async () => {
    const live = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
    for (const c of live) c.kill('SIGKILL');
    await Promise.all(live.map((c) => once(c, 'exit')));
    for (const path of paths) rmSync(path, { recursive: true, force: true });
    process.exit(code);
  });
}
