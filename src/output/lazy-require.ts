/**
 * A dependency loaded on first use, synchronously: `-o yaml` and `-o template` are
 * written by synchronous functions (data.ts) and a template is checked while `-o` is
 * parsed, yet `--help` must not load either library. A dynamic import would be async.
 */
import { createRequire } from 'node:module';

/**
 * `bundled` must be `() => require('<name>')` with the name written out: esbuild bundles
 * that require into the CLI and runs the module's code only when it is called. The ES
 * modules tsc emits (the library's dist/, the unit tests) have no `require`: there the
 * package is resolved from this file, as an import would be.
 */
export function lazyRequire<T>(name: string, bundled: () => T): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= typeof require === 'function' ? bundled() : (createRequire(import.meta.url)(name) as T));
}
