// The layers of DESIGN.md's architecture, checked on the source: every import points
// down (or stays in its layer), the layers above the library reach the registry only
// through src/index.ts, and no module imports itself through a cycle.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/** Top to bottom: a module may import its own layer and the ones after it. */
const LAYERS = ['main', 'cli', 'commands', 'supervise', 'output', 'index', 'registry', 'etcd'];
/** The library's inside, which the layers above src/index.ts must not reach past it. */
const LIBRARY = new Set(['registry', 'etcd']);
/**
 * Except these leaf modules (errors, names, endpoint defaults), which load nothing else:
 * index.ts loads the whole registry, and `--help` must not.
 */
const LEAVES = new Set(['registry/errors.ts', 'registry/keys.ts', 'etcd/errors.ts', 'etcd/endpoints.ts']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** A module's layer: its folder under src/, or its own name for the files at the top. */
function layer(file: string): string {
  const [first] = relative(SRC, file).split('/');
  return first.replace(/\.ts$/, '');
}

/** Every relative import of `file` (static, type-only and dynamic), as source paths. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+)'/gm)].map((m) =>
    resolve(dirname(file), m[1]).replace(/\.js$/, '.ts'),
  );
}

const files = sources(SRC);
const graph = new Map(files.map((f) => [f, imports(f)]));

describe('architecture', () => {
  it('finds the modules and their imports (a guard: the checks below would pass on nothing)', () => {
    expect(files.length).toBeGreaterThan(20);
    expect([...graph.values()].flat().length).toBeGreaterThan(50);
    for (const f of files) expect(LAYERS, relative(SRC, f)).toContain(layer(f));
  });

  it('every import points down the layers, or stays in its own', () => {
    const upward = files.flatMap((f) =>
      graph.get(f)!.filter((t) => LAYERS.indexOf(layer(t)) < LAYERS.indexOf(layer(f))).map((t) => `${relative(SRC, f)} -> ${relative(SRC, t)}`),
    );
    expect(upward).toEqual([]);
  });

  it('the CLI, commands, supervisor and printers use the library only through src/index.ts (or its leaf modules)', () => {
    const past = files
      .filter((f) => LAYERS.indexOf(layer(f)) < LAYERS.indexOf('index'))
      .flatMap((f) =>
        graph
          .get(f)!
          .filter((t) => LIBRARY.has(layer(t)) && !LEAVES.has(relative(SRC, t)))
          .map((t) => `${relative(SRC, f)} -> ${relative(SRC, t)}`),
      );
    expect(past).toEqual([]);
  });

  it('the leaf modules import only each other', () => {
    const leaves = files.filter((f) => LEAVES.has(relative(SRC, f)));
    expect(leaves).toHaveLength(LEAVES.size);
    const beyond = leaves.flatMap((f) => graph.get(f)!.filter((t) => !LEAVES.has(relative(SRC, t))).map((t) => `${relative(SRC, f)} -> ${relative(SRC, t)}`));
    expect(beyond).toEqual([]);
  });

  it('no module imports itself through a cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(SRC, p)).join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('no module is much over 300 lines', () => {
    const long = files.filter((f) => readFileSync(f, 'utf8').split('\n').length > 330).map((f) => relative(SRC, f));
    expect(long).toEqual([]);
  });
});
