/**
 * Real etcd processes for tests: free loopback ports, a data dir under /dev/shm
 * (or the temp dir), and faults injected for real. Every process is stopped by
 * the PID this harness started, never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ETCD = process.env.ETCD_BIN ?? 'etcd';
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function healthy(clientUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(`${clientUrl}/health`, { timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('true')));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => (req.destroy(), resolve(false)));
  });
}

export interface EtcdMemberConfig {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  initialCluster: string;
  clusterToken: string;
  extraArgs: string[];
}

/** One etcd member this harness started. */
export class EtcdMember {
  process: ChildProcess | undefined;
  private stderr = '';

  constructor(readonly config: EtcdMemberConfig) {}

  get clientUrl(): string {
    return `http://127.0.0.1:${this.config.clientPort}`;
  }
  get pid(): number {
    return this.process!.pid!;
  }

  /** Starts (or restarts, on the same data dir) the member; `waitHealthy` waits for a quorum. */
  async start(waitHealthy = true): Promise<void> {
    const c = this.config;
    const peerUrl = `http://127.0.0.1:${c.peerPort}`;
    const child = spawn(
      ETCD,
      [
        '--name', c.name,
        '--data-dir', c.dataDir,
        '--listen-client-urls', this.clientUrl,
        '--advertise-client-urls', this.clientUrl,
        '--listen-peer-urls', peerUrl,
        '--initial-advertise-peer-urls', peerUrl,
        '--initial-cluster', c.initialCluster,
        '--initial-cluster-token', c.clusterToken,
        '--initial-cluster-state', 'new',
        '--logger', 'zap',
        '--log-level', 'error',
        ...c.extraArgs,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
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
      if (await healthy(this.clientUrl)) return;
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

  freeze(): void {
    this.process!.kill('SIGSTOP');
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
  ) {}

  /** All client URLs, comma-separated, as `--endpoints` takes them. */
  get endpoints(): string {
    return this.members.map((m) => m.clientUrl).join(',');
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
    rmSync(this.root, { recursive: true, force: true });
  }
}

function scratchDir(): string {
  return mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'svcreg-etcd-'));
}

/** Starts an etcd cluster of `size` members on free loopback ports and waits until it is healthy. */
export async function startEtcd(options: { size?: number; extraArgs?: string[] } = {}): Promise<EtcdCluster> {
  const size = options.size ?? 1;
  const root = scratchDir();
  const ports = await Promise.all(Array.from({ length: size * 2 }, freePort));
  const names = Array.from({ length: size }, (_, i) => `node${i + 1}`);
  const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[i * 2 + 1]}`).join(',');
  const clusterToken = `svcreg-test-${process.pid}-${ports[0]}`;
  const members = names.map(
    (name, i) =>
      new EtcdMember({
        name,
        clientPort: ports[i * 2],
        peerPort: ports[i * 2 + 1],
        dataDir: join(root, name),
        initialCluster,
        clusterToken,
        extraArgs: options.extraArgs ?? [],
      }),
  );
  const cluster = new EtcdCluster(members, root);
  try {
    await Promise.all(members.map((m) => m.start(false)));
    await Promise.all(members.map((m) => m.waitHealthy()));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
