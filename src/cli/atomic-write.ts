/**
 * Replacing a file so that a reader sees the old content or the new, never a part: a
 * temporary file in the same directory (rename is atomic only within one file system),
 * flushed, then renamed over the file.
 */
import { closeSync, fchmodSync, fsyncSync, openSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Replaces the existing file at `path` with `text`, keeping its mode; a symlink stays one and its target is replaced. */
export function replaceFile(path: string, text: string): void {
  const target = realpathSync(path);
  const mode = statSync(target).mode & 0o7777;
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}-${Date.now().toString(36)}.tmp`);
  // Created private: the text may hold a password until the mode is the file's own.
  const fd = openSync(temp, 'wx', 0o600);
  try {
    try {
      // Set on the descriptor, not at open: the umask would narrow it.
      fchmodSync(fd, mode);
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}
