/**
 * One gRPC call over an http2 stream: the 5-byte message framing (a message may span
 * DATA frames, and several may share one), the status from the trailers, and pausing
 * for backpressure. Unary calls are the case of one message each way.
 */
import type { ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import type { Pausable } from './stream-queue.js';
import { EtcdRequestError, GrpcStatus } from './transport.js';

/** What a call reports: each message, then exactly one of `error` or `end` (status OK). */
export interface CallHandlers {
  message(message: Buffer): void;
  error(err: EtcdRequestError): void;
  end(): void;
}

/** RST_STREAM's CANCEL code (RFC 9113): the client no longer wants the answer. */
const CANCEL = 0x8;
const EMPTY = Buffer.alloc(0);

/** A message as gRPC frames it: a compressed flag (never set here), the length, the bytes. */
export function frameMessage(message: Buffer): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/** Splits the bytes of DATA frames into gRPC messages. */
export class MessageDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** The length of the message being read, once its 5-byte prefix has arrived. */
  private expected = -1;

  /** Adds one chunk; returns the messages it completes, in order. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const messages: Buffer[] = [];
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < 5) return messages;
        const prefix = this.take(5);
        // svcreg never offers a compression (grpc-accept-encoding), so etcd must not use one.
        if (prefix[0] !== 0) throw new EtcdRequestError('etcd sent a compressed message although none was offered', GrpcStatus.UNAVAILABLE);
        this.expected = prefix.readUInt32BE(1);
      }
      if (this.buffered < this.expected) return messages;
      messages.push(this.take(this.expected));
      this.expected = -1;
    }
  }

  /** Whether a message was left incomplete. */
  get partial(): boolean {
    return this.buffered > 0 || this.expected >= 0;
  }

  /** The next `n` buffered bytes; chunks are joined only when a message spans them. */
  private take(n: number): Buffer {
    if (n === 0) return EMPTY;
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    const first = this.chunks[0];
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return first.subarray(0, n);
  }
}

/** A call whose http2 stream may still be opening (connecting, authenticating): writes wait for it. */
export class GrpcCall implements Pausable {
  private stream: ClientHttp2Stream | undefined;
  private waiting: Buffer[] = [];
  private halfClosed = false;
  private paused = false;
  private done = false;
  private readonly decoder = new MessageDecoder();
  private status: { code: number; message: string } | undefined;

  constructor(
    opening: Promise<ClientHttp2Stream>,
    private readonly handlers: CallHandlers,
  ) {
    opening.then(
      (stream) => this.attach(stream),
      (err: Error) => this.fail(err),
    );
  }

  /** Sends one message. */
  write(message: Buffer): void {
    const frame = frameMessage(message);
    if (this.stream) this.stream.write(frame);
    else this.waiting.push(frame);
  }

  /** Half-closes: no more messages from this side. */
  end(): void {
    this.halfClosed = true;
    this.stream?.end();
  }

  /** Abandons the call; no handler runs after this. */
  cancel(): void {
    this.done = true;
    this.stream?.close(CANCEL);
  }

  /** Stops reading: http2 flow control then stops etcd once the stream's window is full. */
  pause(): void {
    this.paused = true;
    this.stream?.pause();
  }

  resume(): void {
    this.paused = false;
    this.stream?.resume();
  }

  private attach(stream: ClientHttp2Stream): void {
    if (this.done) {
      stream.close(CANCEL);
      return;
    }
    this.stream = stream;
    // A trailers-only answer (an error at once) carries the status in its headers.
    stream.on('response', (headers) => this.readStatus(headers));
    stream.on('trailers', (headers) => this.readStatus(headers));
    stream.on('data', (chunk: Buffer) => this.receive(chunk));
    stream.on('error', (err) => this.fail(err));
    // After 'end' (every message read: a paused stream holds it back) or a reset; trailers have arrived by then.
    stream.on('close', () => this.finish());
    for (const frame of this.waiting) stream.write(frame);
    this.waiting = [];
    if (this.halfClosed) stream.end();
    if (this.paused) stream.pause();
  }

  private receive(chunk: Buffer): void {
    if (this.done) return;
    let messages: Buffer[];
    try {
      messages = this.decoder.push(chunk);
    } catch (err) {
      this.fail(err as Error);
      this.stream?.close(CANCEL);
      return;
    }
    for (const message of messages) {
      if (this.done) return;
      this.handlers.message(message);
    }
  }

  private readStatus(headers: IncomingHttpHeaders): void {
    if (headers['grpc-status'] === undefined) return;
    this.status = { code: Number(headers['grpc-status']), message: percentDecoded(String(headers['grpc-message'] ?? '')) };
  }

  private finish(): void {
    if (this.done) return;
    const status = this.status;
    if (!status || this.decoder.partial) this.fail(new Error('the connection closed without an answer'));
    else if (status.code !== 0) this.fail(new EtcdRequestError(status.message || `gRPC status ${status.code}`, status.code));
    else {
      this.done = true;
      this.handlers.end();
    }
  }

  /** Socket, TLS and http2 failures count as an unreachable endpoint; their message names the cause. */
  private fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.handlers.error(err instanceof EtcdRequestError ? err : new EtcdRequestError(err.message, GrpcStatus.UNAVAILABLE));
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
