/**
 * Real etcd processes for tests: free loopback ports, a data dir under /dev/shm
 * (or the temp dir), and faults injected for real. Every process is stopped by
 * the PID this harness started, never by name.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { get as httpGet, request } from 'node:http';
import { join } from 'node:path';
import { freePort, healthy, scratchDir, spawnEtcd } from '../../scripts/etcd-process.mjs';
import { PeerNetwork } from './peer-network.js';

export { freePort };
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface EtcdMemberConfig {
  name: string;
  clientPort: number;
  peerPort: number;
  /** Where the other members dial this one (a PeerNetwork proxy), when not peerPort. */
  advertisedPeerPort?: number;
  dataDir: string;
  initialCluster: string;
  clusterToken: string;
  extraArgs: string[];
  /** Serve clients over https, requiring a certificate signed by the CA. */
  tls?: { caFile: string; certFile: string; keyFile: string; clientCertFile: string; clientKeyFile: string };
}

/** One etcd member this harness started. */
export class EtcdMember {
  process: ChildProcess | undefined;
  private stderr = '';

  constructor(readonly config: EtcdMemberConfig) {}

  get clientUrl(): string {
    return `${this.config.tls ? 'https' : 'http'}://127.0.0.1:${this.config.clientPort}`;
  }
  get pid(): number {
    return this.process!.pid!;
  }

  /** Starts (or restarts, on the same data dir) the member; `waitHealthy` waits for a quorum. */
  async start(waitHealthy = true): Promise<void> {
    const child = spawnEtcd(this.config);
    this.stderr = '';
    child.stderr!.on('data', (d) => (this.stderr = (this.stderr + d).slice(-4000)));
    live.add(child);
    child.on('exit', () => live.delete(child));
    this.process = child;
    if (waitHealthy) await this.waitHealthy();
  }

  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (this.process?.exitCode !== null) throw new Error(`etcd ${this.config.name} exited: ${this.stderr}`);
      const t = this.config.tls;
      const credentials = t && { ca: readFileSync(t.caFile), cert: readFileSync(t.clientCertFile), key: readFileSync(t.clientKeyFile) };
      if (await healthy(this.clientUrl, credentials)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`etcd ${this.config.name} not healthy after ${timeoutMs} ms: ${this.stderr}`);
  }

  /** kill -9, and wait for the process to be gone. */
  async kill9(): Promise<void> {
    await this.signalAndWait('SIGKILL');
  }

  /** A clean stop. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT'); // a frozen process cannot handle SIGTERM
    await this.signalAndWait('SIGTERM', 5000);
  }

  /** POSTs to etcd's JSON gateway on this member; undefined when it does not answer in time. */
  private gateway(path: string, body: object, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve) => {
      const req = request(`${this.clientUrl}${path}`, { method: 'POST', timeout: timeoutMs }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve(res.statusCode === 200 ? JSON.parse(text) : undefined));
      });
      req.on('error', () => resolve(undefined));
      req.on('timeout', () => (req.destroy(), resolve(undefined)));
      req.end(JSON.stringify(body));
    });
  }

  /** One transaction of PUTs (key, value) through this member's JSON gateway; its revision. */
  async txn(puts: [string, string][], timeoutMs = 30_000): Promise<number> {
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const r = (await this.gateway('/v3/kv/txn', { success: puts.map(([k, v]) => ({ request_put: { key: b64(k), value: b64(v) } })) }, timeoutMs)) as
      | { header: { revision: string } }
      | undefined;
    if (!r) throw new Error(`txn through ${this.config.name}: no answer, or not 200`);
    return Number(r.header.revision);
  }

  /** This member's view of the cluster; undefined when it does not answer. */
  async status(): Promise<{ memberId: string; leader: string } | undefined> {
    const r = (await this.gateway('/v3/maintenance/status', {}, 1000)) as { header: { member_id: string }; leader: string } | undefined;
    return r && { memberId: r.header.member_id, leader: r.leader };
  }

  /** A linearizable read of one key through this member: its value, null if absent, undefined if no answer. */
  async get(key: string, timeoutMs = 500): Promise<string | null | undefined> {
    const r = (await this.gateway('/v3/kv/range', { key: Buffer.from(key).toString('base64') }, timeoutMs)) as { kvs?: { value: string }[] } | undefined;
    if (!r) return undefined;
    return r.kvs?.length ? Buffer.from(r.kvs[0].value, 'base64').toString() : null;
  }

  /** This member's Prometheus metrics, as text; empty when it does not answer within a second. */
  private metrics(): Promise<string> {
    return new Promise((resolve) => {
      const req = httpGet(`${this.clientUrl}/metrics`, { timeout: 1000 }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve(text));
      });
      req.on('error', () => resolve(''));
      req.on('timeout', () => (req.destroy(), resolve('')));
    });
  }

  /** How many watchers this member serves now (its etcd_debugging_mvcc_watcher_total metric). */
  async watchers(): Promise<number> {
    return Number(/^etcd_debugging_mvcc_watcher_total (\d+)/m.exec(await this.metrics())?.[1] ?? 0);
  }

  /** Range requests this member has answered so far, the gateway's among them (it asks over gRPC). */
  async rangesServed(): Promise<number> {
    const m = /^grpc_server_handled_total\{grpc_code="OK",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"\} (\d+)/m.exec(await this.metrics());
    if (!m) throw new Error("etcd's metrics have no Range counter");
    return Number(m[1]);
  }

  /** SIGSTOP, returning once the process is stopped: a signal is delivered asynchronously,
   * and a request sent before it lands would still be answered. */
  freeze(): void {
    const pid = this.pid;
    this.process!.kill('SIGSTOP');
    const until = Date.now() + 2000;
    while (Date.now() < until && !/^\d+ \(.*\) T/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
  thaw(): void {
    this.process!.kill('SIGCONT');
  }

  private async signalAndWait(signal: NodeJS.Signals, graceMs = 0): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    if (graceMs > 0) {
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    } else {
      await exited;
    }
  }
}

/** A set of members forming one cluster (one member for a single etcd). */
export class EtcdCluster {
  constructor(
    readonly members: EtcdMember[],
    private readonly root: string,
    private readonly network?: PeerNetwork,
  ) {}

  /**
   * Cuts `member` off from the other members (its client port still answers), until
   * `heal()`. Needs a cluster started with `partitionable`.
   */
  async partition(member: EtcdMember): Promise<void> {
    const status = await member.status();
    if (!this.network || !status) throw new Error('partition needs a partitionable cluster and a member that answers');
    this.network.isolate(this.members.indexOf(member), BigInt(status.memberId).toString(16));
  }

  heal(): void {
    this.network?.heal();
  }

  /** All client URLs, comma-separated, as `--endpoints` takes them. */
  get endpoints(): string {
    return this.members.map((m) => m.clientUrl).join(',');
  }

  /** The member every running member agrees is the leader (waits for an election). */
  async leader(timeoutMs = 20_000): Promise<EtcdMember> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const statuses = await Promise.all(this.members.map((m) => (m.process?.exitCode === null ? m.status() : undefined)));
      const leaders = new Set(statuses.filter((s) => s && s.leader !== '0').map((s) => s!.leader));
      if (leaders.size === 1) {
        const [id] = leaders;
        const i = statuses.findIndex((s) => s?.memberId === id);
        if (i >= 0) return this.members[i];
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('no agreed leader');
  }

  /** Reads a key through every running member at once: the first answer, or undefined if none answers. */
  get(key: string): Promise<string | null | undefined> {
    const running = this.members.filter((m) => m.process?.exitCode === null);
    return new Promise((resolve) => {
      let pending = running.length;
      if (pending === 0) resolve(undefined);
      for (const m of running) {
        void m.get(key).then((value) => {
          if (value !== undefined) resolve(value);
          else if (--pending === 0) resolve(undefined);
        });
      }
    });
  }

  /** Watchers served by the whole cluster. */
  async watchers(): Promise<number> {
    const counts = await Promise.all(this.members.map((m) => (m.process?.exitCode === null ? m.watchers() : 0)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * Runs `start` (which starts a watching process) and resolves once etcd serves one
   * more watcher than before: the process is then watching, however slow it was to start.
   * "Before" is the fewest seen meanwhile: the watcher of a process that has just exited
   * (the previous test's) can still be counted when this starts, and go a moment later.
   */
  async startWatching<T>(start: () => T, timeoutMs = 30_000): Promise<T> {
    let before = await this.watchers();
    const started = start();
    const until = Date.now() + timeoutMs;
    for (let now = await this.watchers(); now <= before; now = await this.watchers()) {
      before = Math.min(before, now);
      if (Date.now() > until) throw new Error('no new watcher appeared in etcd');
      await new Promise((r) => setTimeout(r, 20));
    }
    return started;
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
    await this.network?.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * Starts an etcd cluster of `size` members on free loopback ports and waits until it is
 * healthy. `partitionable`: peer traffic goes through proxies, for `partition()`.
 */
export async function startEtcd(
  options: { size?: number; extraArgs?: string[]; tls?: EtcdMemberConfig['tls']; partitionable?: boolean } = {},
): Promise<EtcdCluster> {
  const size = options.size ?? 1;
  const root = scratchDir();
  const ports = await Promise.all(Array.from({ length: size * 2 }, freePort));
  const network = options.partitionable ? await PeerNetwork.start(Array.from({ length: size }, (_, i) => ports[i * 2 + 1])) : undefined;
  const advertised = (i: number) => network?.ports[i] ?? ports[i * 2 + 1];
  const names = Array.from({ length: size }, (_, i) => `node${i + 1}`);
  const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${advertised(i)}`).join(',');
  const clusterToken = `svcreg-test-${process.pid}-${ports[0]}`;
  const members = names.map(
    (name, i) =>
      new EtcdMember({
        name,
        clientPort: ports[i * 2],
        peerPort: ports[i * 2 + 1],
        advertisedPeerPort: network ? advertised(i) : undefined,
        dataDir: join(root, name),
        initialCluster,
        clusterToken,
        extraArgs: options.extraArgs ?? [],
        tls: options.tls,
      }),
  );
  const cluster = new EtcdCluster(members, root, network);
  try {
    await Promise.all(members.map((m) => m.start(false)));
    await Promise.all(members.map((m) => m.waitHealthy()));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
