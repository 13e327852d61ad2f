/**
 * A TCP proxy on a free loopback port in front of an etcd member, to cut or
 * blackhole a client's connections for real.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private mode: 'pass' | 'refuse' | 'blackhole' = 'pass';

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly host: string,
  ) {}

  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** Starts a proxy to `targetPort` on 127.0.0.1, listening on `host` (IPv6 loopback: `::1`). */
  static start(targetPort: number, host = '127.0.0.1'): Promise<TcpProxy> {
    return new Promise((resolve, reject) => {
      let proxy: TcpProxy;
      const server = createServer((client) => {
        proxy.sockets.add(client);
        client.on('close', () => proxy.sockets.delete(client));
        client.on('error', () => client.destroy());
        if (proxy.mode === 'refuse') return client.destroy();
        if (proxy.mode === 'blackhole') return; // accept and never answer
        const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
        proxy.sockets.add(upstream);
        upstream.on('close', () => (proxy.sockets.delete(upstream), client.destroy()));
        upstream.on('error', () => upstream.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
      });
      server.on('error', reject);
      server.listen(0, host, () => {
        proxy = new TcpProxy(server, (server.address() as { port: number }).port, host);
        resolve(proxy);
      });
    });
  }

  /** Drops every open connection and refuses new ones until `restore()`. */
  cut(): void {
    this.mode = 'refuse';
    for (const s of this.sockets) s.destroy();
  }

  /** Drops every open connection; new ones are accepted and never answered. */
  blackhole(): void {
    this.mode = 'blackhole';
    for (const s of this.sockets) s.destroy();
  }

  /**
   * Half-opens every current connection: they stay up but carry nothing more, as
   * after a silent network failure. New connections pass.
   */
  stallExisting(): void {
    for (const s of this.sockets) {
      s.unpipe();
      s.pause();
    }
  }

  restore(): void {
    this.mode = 'pass';
  }

  /** Six faults in a row, 400 ms apart: each 700 ms long, cut and blackholed in turn. */
  async flap(): Promise<void> {
    for (let round = 0; round < 6; round++) {
      await new Promise((r) => setTimeout(r, 400));
      if (round % 2 === 0) this.cut();
      else this.blackhole();
      await new Promise((r) => setTimeout(r, 700));
      this.restore();
    }
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
