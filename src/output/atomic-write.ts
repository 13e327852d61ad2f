/**
 * Replacing a file so that a reader sees the old content or the new, never a part: a
 * temporary file in the same directory (rename is atomic only within one file system),
 * flushed, then renamed over the file. Staged and installed in two steps, so that
 * `render --check` can look at the staged file before it is installed.
 */
import { closeSync, fchmodSync, fsyncSync, openSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A complete file beside its target, not yet in its place. */
export interface StagedFile {
  /** Where the staged text is, until it is installed or discarded. */
  readonly path: string;
  /** Renames it over the target. */
  install(): void;
  /** Removes it (nothing happens once installed). */
  discard(): void;
}

/** Where `path` resolves to, and the mode it has; a missing target (allowed with `create`) gets 0644. */
function targetOf(path: string, create: boolean): { target: string; mode: number } {
  try {
    const target = realpathSync(path);
    return { target, mode: statSync(target).mode & 0o7777 };
  } catch (err) {
    if (!create || (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return { target: path, mode: 0o644 };
  }
}

/**
 * Writes `text` to a temporary file beside `path` (its target, for a symlink), with the
 * mode of the existing file. Without `create`, a missing file is an error (ENOENT).
 */
export function stageFile(path: string, text: string, create = false): StagedFile {
  const { target, mode } = targetOf(path, create);
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
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  let installed = false;
  return {
    path: temp,
    install() {
      renameSync(temp, target);
      installed = true;
    },
    discard() {
      if (!installed) rmSync(temp, { force: true });
    },
  };
}

/** Replaces the existing file at `path` with `text`, keeping its mode; a symlink stays one and its target is replaced. */
export function replaceFile(path: string, text: string): void {
  const staged = stageFile(path, text);
  try {
    staged.install();
  } catch (err) {
    staged.discard();
    throw err;
  }
}
