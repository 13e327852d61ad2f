// The names shell completion offers, read from their keys alone on a real etcd:
// registry.serviceNames() and registry.instanceIds().
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../../src/index.js';
import { PAGE_SIZE } from '../../src/registry/snapshot.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';

let etcd: EtcdCluster;
let n = 0;
const registries: Registry[] = [];

/** A registry on its own prefix, with `keys` (relative to it) written. */
async function withKeys(keys: string[]): Promise<Registry> {
  const prefix = `/names-${++n}/`;
  // etcd takes at most 128 operations in one transaction.
  for (let i = 0; i < keys.length; i += 128) await etcd.members[0].txn(keys.slice(i, i + 128).map((k) => [prefix + k, '{}']));
  const registry = new Registry({ endpoints: [etcd.endpoints], prefix });
  registries.push(registry);
  return registry;
}

beforeAll(async () => {
  etcd = await startEtcd();
});

afterAll(async () => {
  for (const r of registries) r.close();
  await etcd?.stop();
});

describe('serviceNames', () => {
  it('names each service once, across pages, however many instances one has', async () => {
    const many = Array.from({ length: PAGE_SIZE + 500 }, (_, i) => `big/i${i}`);
    const registry = await withKeys(['a/1', ...many, 'big-x/1', 'c/1', 'c/2']);
    expect(await registry.serviceNames()).toEqual(['a', 'big', 'big-x', 'c']);
  });

  it('only those starting with what is typed, never one that merely shares a longer prefix key', async () => {
    const registry = await withKeys(['web/1', 'web2/1', 'api/1', 'we']);
    expect(await registry.serviceNames('we')).toEqual(['web', 'web2']);
  });

  it('leaves out keys that name no service discover could read (no id, or an invalid name)', async () => {
    const registry = await withKeys(['solo', 'ok/1', '../1', 'tab\there/1']);
    expect(await registry.serviceNames()).toEqual(['ok']);
  });
});

describe('instanceIds', () => {
  it("the ids of exactly that service starting with what is typed, without keys nested deeper", async () => {
    const registry = await withKeys(['web/w1', 'web/w2', 'web/x1', 'web/w3/deeper', 'web2/w9']);
    expect(await registry.instanceIds('web', 'w')).toEqual(['w1', 'w2']);
  });
});
