/**
 * The truth a watch is checked against: etcd's own history of a prefix, read with an
 * independent client (etcd3), and a writer that makes history while faults strike.
 */
import type { Etcd3 } from 'etcd3';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One change, as a watch reports it and as etcd's history holds it. */
export interface HistoryEvent {
  type: string;
  key: string;
  revision: number;
}

/** A seed-format instance value. */
export const value = (service: string, id: string) => JSON.stringify({ service_id: id, service_name: service, address: '127.0.0.1', port: 1, registered_at: 1 });

/** etcd's own history of a prefix between two revisions, read after the fact on a quiet cluster. */
export async function history(client: Etcd3, prefix: string, from: number, to: number): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  const watcher = await client.watch().prefix(prefix).startRevision(String(from)).create();
  await new Promise<void>((resolve) => {
    watcher.on('data', (res) => {
      for (const e of res.events) {
        const revision = Number(e.kv.mod_revision);
        if (revision <= to) events.push({ type: e.type === 'Delete' ? 'DELETE' : 'PUT', key: e.kv.key.toString(), revision });
        // (The header's revision is the store's, not the batch's: stop on the events themselves.)
        if (revision >= to) resolve();
      }
    });
  });
  await watcher.cancel();
  return events;
}

/**
 * Writes PUTs and DELETEs under `prefix` until stopped, ignoring failures while etcd is away;
 * `pauseMs` between writes paces it for a slower consumer.
 */
export function writer(client: Etcd3, prefix: string, pauseMs = 0) {
  const state = { stop: false, ok: 0, last: 0 };
  const done = (async () => {
    for (let i = 0; !state.stop; i++) {
      try {
        const id = String(i % 50);
        const r = i % 3 === 2 ? await client.delete().key(`${prefix}s/${id}`).exec() : await client.put(`${prefix}s/${id}`).value(value('s', id)).exec();
        state.ok++;
        state.last = Math.max(state.last, Number(r.header.revision));
        if (pauseMs > 0) await sleep(pauseMs);
      } catch {
        await sleep(50);
      }
    }
  })();
  return { state, finish: async () => ((state.stop = true), await done, state) };
}

export async function currentRevision(client: Etcd3): Promise<number> {
  return Number((await client.get('/').exec()).header.revision);
}

/** etcd's revision once the test's own client answers again (its circuit breaker opens on a kill for 5 s). */
export async function settledRevision(client: Etcd3): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await currentRevision(client);
    } catch (err) {
      if (attempt >= 40) throw err;
      await sleep(500);
    }
  }
}
