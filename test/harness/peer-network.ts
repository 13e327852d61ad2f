/**
 * The peer network of a test cluster, through proxies that can cut one member off
 * from the others while its client port still answers: a network partition, for real.
 * Each member's advertised peer URL is a proxy in front of its peer port. etcd's peer
 * requests name their sender (the X-Server-From header of rafthttp), so a proxy can
 * tell traffic *from* the isolated member apart from traffic of the others, whichever
 * proxy it goes through. Cut-off traffic is blackholed (held, never answered), as a
 * partition drops packets.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

interface PeerConnection {
  /** Index of the member this connection goes to. */
  target: number;
  /** The sending member's id (hex), when its request said. */
  origin: string | undefined;
  client: Socket;
  upstream: Socket | undefined;
  /** Held by the partition: carries nothing until dropped. */
  held: boolean;
}

const HEADER_END = Buffer.from('\r\n\r\n');

export class PeerNetwork {
  private readonly connections = new Set<PeerConnection>();
  private isolated: { index: number; memberId: string } | undefined;

  private constructor(
    private readonly servers: Server[],
    /** The proxies' ports, by member: what each member advertises. */
    readonly ports: number[],
    private readonly targets: number[],
  ) {}

  /** One proxy on a free loopback port in front of each of `peerPorts`. */
  static async start(peerPorts: number[]): Promise<PeerNetwork> {
    const network = new PeerNetwork([], [], peerPorts);
    for (let i = 0; i < peerPorts.length; i++) {
      const server = createServer((client) => network.accept(i, client));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      network.servers.push(server);
      network.ports.push((server.address() as { port: number }).port);
    }
    return network;
  }

  /** Cuts member `index` (whose id, in hex, is `memberId`) off from the others, both ways. */
  isolate(index: number, memberId: string): void {
    this.isolated = { index, memberId };
    for (const c of this.connections) if (this.blocked(c)) this.stall(c);
  }

  /** Ends the partition: held connections are dropped, so the members dial again. */
  heal(): void {
    this.isolated = undefined;
    for (const c of this.connections) if (c.held) this.drop(c);
  }

  async close(): Promise<void> {
    for (const c of this.connections) this.drop(c);
    await Promise.all(this.servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }

  private blocked(c: PeerConnection): boolean {
    return this.isolated !== undefined && (c.target === this.isolated.index || c.origin === this.isolated.memberId);
  }

  /** Reads the first request's headers to learn the sender, then connects or holds. */
  private accept(target: number, client: Socket): void {
    const c: PeerConnection = { target, origin: undefined, client, upstream: undefined, held: false };
    this.connections.add(c);
    client.on('error', () => client.destroy());
    client.on('close', () => this.drop(c));
    let head = Buffer.alloc(0);
    const onData = (data: Buffer) => {
      head = Buffer.concat([head, data]);
      if (head.indexOf(HEADER_END) < 0 && head.length < 64 * 1024) return;
      client.off('data', onData);
      client.pause();
      c.origin = /^x-server-from:\s*([0-9a-f]+)/im.exec(head.toString('latin1'))?.[1];
      if (this.blocked(c)) {
        c.held = true; // a partition answers nothing
        return;
      }
      const upstream = createConnection({ host: '127.0.0.1', port: this.targets[target] });
      c.upstream = upstream;
      upstream.on('error', () => upstream.destroy());
      upstream.on('close', () => this.drop(c));
      upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    };
    client.on('data', onData);
  }

  private stall(c: PeerConnection): void {
    c.held = true;
    c.client.unpipe();
    c.upstream?.unpipe();
    c.client.pause();
    c.upstream?.pause();
  }

  private drop(c: PeerConnection): void {
    if (!this.connections.delete(c)) return;
    c.client.destroy();
    c.upstream?.destroy();
  }
}
