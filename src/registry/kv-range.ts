/**
 * etcd's KV.Range as a plain gRPC call over Node's http2, for the pages of large
 * listings: etcd encodes protobuf several times faster than its JSON gateway encodes
 * JSON, and protobuf.ts decodes it without protobufjs. http2 loads on first use, so
 * one-shot reads that fit in the gateway never pay for it.
 */
import type { ClientHttp2Session } from 'node:http2';
import type { TlsFiles } from './gateway.js';
import { decodeRangeResponse, encodeRangeRequest } from './protobuf.js';
import { msUntil } from './timers.js';
import { asRequestError, EtcdRequestError, GrpcStatus, type RangeRequest, type RangeResponse } from './transport.js';
/** Flow-control window: a page of several MB arrives without waiting for window updates. */
const WINDOW_BYTES = 64 * 1024 * 1024;

export class KvRange {
  private session: ClientHttp2Session | undefined;

  constructor(
    private readonly endpoint: string,
    private readonly tls: TlsFiles | undefined,
  ) {}

  /** Reads one range; `token` is an etcd auth token, when auth is on. */
  async range(request: RangeRequest, deadline: number, token: string | undefined): Promise<RangeResponse> {
    try {
      const body = await this.call(encodeRangeRequest(request), deadline, token);
      const length = body.length >= 5 ? body.readUInt32BE(1) : -1;
      if (length < 0 || body.length < 5 + length) throw new EtcdRequestError('the answer was cut short', GrpcStatus.UNAVAILABLE);
      return decodeRangeResponse(body.subarray(5, 5 + length));
    } catch (err) {
      throw asRequestError(err as Error);
    }
  }

  private async call(message: Buffer, deadline: number, token: string | undefined): Promise<Buffer> {
    const session = await this.connect();
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1); // byte 0: not compressed
    message.copy(frame, 5);
    return new Promise<Buffer>((resolve, reject) => {
      const headers: Record<string, string> = { ':method': 'POST', ':path': '/etcdserverpb.KV/Range', 'content-type': 'application/grpc', te: 'trailers' };
      if (token) headers.token = token;
      const stream = session.request(headers);
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let statusMessage = '';
      const onStatus = (h: Record<string, unknown>) => {
        if (h['grpc-status'] !== undefined) {
          status = String(h['grpc-status']);
          statusMessage = percentDecoded(String(h['grpc-message'] ?? ''));
        }
      };
      const timer = setTimeout(() => {
        // A member that stopped answering may hold the whole session: start afresh next time.
        this.drop(session);
        stream.close();
        reject(new EtcdRequestError('no answer within the deadline', GrpcStatus.DEADLINE_EXCEEDED));
      }, msUntil(deadline));
      stream.on('response', onStatus); // a trailers-only answer carries the status in its headers
      stream.on('trailers', onStatus);
      stream.on('data', (c: Buffer) => chunks.push(c));
      // One failed stream leaves the session to the others; a failed session ends them all.
      stream.on('error', (err) => {
        clearTimeout(timer);
        reject(new EtcdRequestError(err.message, GrpcStatus.UNAVAILABLE));
      });
      stream.on('end', () => {
        clearTimeout(timer);
        if (status === undefined) {
          reject(new EtcdRequestError('the connection closed without an answer', GrpcStatus.UNAVAILABLE));
          return;
        }
        if (status !== '0') {
          reject(new EtcdRequestError(statusMessage || `gRPC status ${status}`, Number(status)));
          return;
        }
        resolve(Buffer.concat(chunks));
      });
      stream.end(frame);
    });
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }

  private async connect(): Promise<ClientHttp2Session> {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const { connect } = await import('node:http2');
    const session = connect(this.endpoint, {
      ...(this.tls && { ca: this.tls.cacert, cert: this.tls.cert, key: this.tls.key }),
      settings: { initialWindowSize: WINDOW_BYTES },
    });
    session.on('connect', () => session.setLocalWindowSize(WINDOW_BYTES));
    // Errors reach the pending streams; an idle session must not keep the process alive.
    session.on('error', () => this.drop(session));
    session.unref();
    this.session = session;
    return session;
  }

  private drop(session: ClientHttp2Session): void {
    if (this.session === session) this.session = undefined;
    session.destroy();
  }
}

/** gRPC percent-encodes its status message; a malformed one is shown as it came. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
