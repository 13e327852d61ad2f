/**
 * The hand-off between a gRPC stream and the code that consumes it, with
 * backpressure: past `highWater` items the source is paused, and it resumes once
 * the consumer has emptied the queue. A slow reader of `svcreg watch` so pauses the
 * etcd stream (gRPC stops reading, HTTP/2 flow control stops etcd) instead of
 * growing the queue without bound.
 */

/** What a queue pauses and resumes: a Node stream, as a gRPC call (grpc-call.ts) is. */
export interface Pausable {
  pause(): unknown;
  resume(): unknown;
}

export class StreamQueue<T> {
  private items: T[] = [];
  private waiting: ((item: T) => void) | undefined;
  private paused = false;

  /** The stream to pause; set once it exists (items may come before it, from timers). */
  source: Pausable | undefined;

  /** `flowControlled` are the items that count towards `highWater` (data, not errors or ends). */
  constructor(
    private readonly highWater: number,
    private readonly flowControlled: (item: T) => boolean = () => true,
  ) {}

  push(item: T): void {
    const waiter = this.waiting;
    if (waiter) {
      this.waiting = undefined;
      waiter(item);
      return;
    }
    this.items.push(item);
    if (!this.paused && this.flowControlled(item) && this.items.length >= this.highWater) {
      this.paused = true;
      this.source?.pause();
    }
  }

  shift(): Promise<T> {
    if (this.items.length > 0) {
      const item = this.items.shift()!;
      if (this.paused && this.items.length === 0) {
        this.paused = false;
        this.source?.resume();
      }
      return Promise.resolve(item);
    }
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** Items waiting: for tests of the bound. */
  get length(): number {
    return this.items.length;
  }
}
