/**
 * gRPC over Node's own http2, for one etcd endpoint: one session, opened on first use
 * and again after it fails, carrying unary calls and streams alike. It replaces etcd3
 * and grpc-js, whose loading (and parsing of rpc.proto) made `svcreg watch` start 4.5x
 * slower than `node -e 0`. http2 loads on first use, so one-shot commands that stay on
 * the JSON gateway never pay for it.
 */
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import type { Deadline } from './deadline.js';
import type { TlsFiles } from './gateway.js';
import { GrpcCall, type CallHandlers } from './grpc-call.js';
import { EtcdRequestError, GrpcStatus } from './transport.js';

/** The session's flow-control window: the pages of several streams arrive without waiting for window updates. */
const WINDOW_BYTES = 64 * 1024 * 1024;
/**
 * Each stream's window: what etcd may send a paused watch before it has to stop. Larger
 * held 100,000 unread events (169 MB RSS) in memory; a listing page still streams in, as
 * http2 opens the window again while it is read.
 */
const STREAM_WINDOW_BYTES = 1024 * 1024;
/** How often a session with open calls is pinged; etcd accepts pings every 5 s or slower. */
const PING_INTERVAL_MS = 10_000;
/** A ping unanswered this long means a frozen member or a half-open connection. */
const PING_TIMEOUT_MS = 5_000;

/** Request metadata: gRPC sends it as http2 headers (`token`, `hasleader`). */
export type Metadata = Record<string, string>;

/** One http2 session, pinged while calls are open on it. */
class Session {
  private calls = 0;
  private probing = false;

  constructor(readonly h2: ClientHttp2Session) {
    const keepalive = setInterval(() => this.calls > 0 && this.probe(), PING_INTERVAL_MS).unref();
    h2.on('close', () => clearInterval(keepalive));
    // Errors reach the open streams; an idle session must not keep the process alive.
    h2.on('error', () => undefined);
    h2.unref();
  }

  get usable(): boolean {
    return !this.h2.closed && !this.h2.destroyed;
  }

  /** Counts `stream` as open: while any is, the session keeps the process alive and is pinged. */
  track(stream: ClientHttp2Stream): void {
    if (this.calls++ === 0) this.h2.ref();
    stream.once('close', () => {
      if (--this.calls === 0 && !this.h2.destroyed) this.h2.unref();
    });
  }

  /** Pings once; no answer in time destroys the session, failing every call on it. */
  probe(): void {
    if (this.probing || !this.usable) return;
    this.probing = true;
    const timer = setTimeout(() => this.h2.destroy(new Error(`no answer to an HTTP/2 ping within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS).unref();
    const sent = this.h2.ping(() => {
      clearTimeout(timer);
      this.probing = false;
    });
    // Not sent: too many pings outstanding already, which the timer of the first one covers.
    if (!sent) {
      clearTimeout(timer);
      this.probing = false;
    }
  }
}

/** gRPC calls to one endpoint. */
export class GrpcChannel {
  private session: Session | undefined;

  constructor(
    private readonly endpoint: string,
    private readonly tls: TlsFiles | undefined,
  ) {}

  /**
   * Starts a call to `path` (`/etcdserverpb.Watch/Watch`); messages written before the
   * session is up are sent once it is. A `deadline` is passed on to etcd, and cancels the
   * call when it passes.
   */
  call(path: string, metadata: Promise<Metadata>, handlers: CallHandlers, deadline?: Deadline): GrpcCall {
    const call = new GrpcCall(this.open(path, metadata, deadline), handlers);
    deadline?.signal.addEventListener('abort', () => call.cancel(), { once: true });
    return call;
  }

  /** One request, one answer, by `deadline`. */
  unary(path: string, message: Buffer, metadata: Promise<Metadata>, deadline: Deadline): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let answer: Buffer | undefined;
      const call = this.call(
        path,
        metadata,
        {
          message: (m) => (answer ??= m),
          error: reject,
          end: () => (answer ? resolve(answer) : reject(new EtcdRequestError('etcd ended the call without an answer', GrpcStatus.UNAVAILABLE))),
        },
        deadline,
      );
      call.write(message);
      call.end();
    });
  }

  /** Something on this endpoint went unanswered: ping the session, dropping it if it is dead. */
  probe(): void {
    this.session?.probe();
  }

  close(): void {
    this.session?.h2.close();
    this.session = undefined;
  }

  private async open(path: string, metadata: Promise<Metadata>, deadline: Deadline | undefined): Promise<ClientHttp2Stream> {
    const headers: Metadata = { ...(await metadata), ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' };
    if (deadline) headers['grpc-timeout'] = `${deadline.msLeft}m`;
    const session = await this.connect();
    const stream = session.h2.request(headers);
    session.track(stream);
    return stream;
  }

  private async connect(): Promise<Session> {
    if (this.session?.usable) return this.session;
    const { connect } = await import('node:http2');
    // Another call may have connected while http2 loaded.
    if (this.session?.usable) return this.session;
    const h2 = connect(this.endpoint, {
      ...(this.tls && { ca: this.tls.cacert, cert: this.tls.cert, key: this.tls.key }),
      settings: { initialWindowSize: STREAM_WINDOW_BYTES },
    });
    h2.on('connect', () => h2.setLocalWindowSize(WINDOW_BYTES));
    this.session = new Session(h2);
    return this.session;
  }
}
