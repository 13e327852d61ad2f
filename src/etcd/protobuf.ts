/**
 * The protobuf wire format, written out by hand for the few etcd messages svcreg sends
 * and reads (kv-messages.ts, lease-messages.ts, watch-messages.ts): decoding 100,000
 * KeyValues this way is several times faster than through protobufjs, and needs none of
 * its start-up or of parsing rpc.proto. int64 fields travel as decimal strings, since
 * lease ids exceed 2^53.
 */
import type { RawKeyValue } from './transport.js';

export const VARINT = 0;
export const LENGTH_DELIMITED = 2;

const EMPTY = Buffer.alloc(0);

/** Builds one message. Fields at their proto3 default are left out unless a method says otherwise. */
export class Writer {
  private readonly chunks: Buffer[] = [];
  private pending: number[] = [];

  /** An integer field (int64 as a string or bigint); 0 is left out. */
  int(field: number, value: number | string | bigint | undefined): this {
    if (value === undefined || value === 0 || value === '0' || value === 0n) return this;
    return this.intAlways(field, value);
  }

  /** An integer field written even when 0: a member of a oneof, whose presence is its meaning. */
  intAlways(field: number, value: number | string | bigint): this {
    this.tag(field, VARINT);
    this.varint(value);
    return this;
  }

  bool(field: number, value: boolean | undefined): this {
    return value ? this.intAlways(field, 1) : this;
  }

  /** A bytes field; absent (undefined) is left out, an empty buffer too (proto3 cannot tell them apart). */
  bytes(field: number, value: Buffer | undefined): this {
    if (!value || value.length === 0) return this;
    this.tag(field, LENGTH_DELIMITED);
    this.varint(value.length);
    this.flush();
    this.chunks.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value));
  }

  /** An embedded message, written even when empty (a oneof member, a repeated element). */
  message(field: number, inner: Writer): this {
    const body = inner.finish();
    this.tag(field, LENGTH_DELIMITED);
    this.varint(body.length);
    this.flush();
    this.chunks.push(body);
    return this;
  }

  finish(): Buffer {
    this.flush();
    return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  private varint(value: number | string | bigint): void {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
      let n = value;
      while (n > 0x7f) {
        this.pending.push((n % 0x80) | 0x80);
        n = Math.floor(n / 0x80);
      }
      this.pending.push(n);
      return;
    }
    // Negative int64s take ten bytes, as their two's complement.
    let n = BigInt.asUintN(64, BigInt(value));
    while (n > 0x7fn) {
      this.pending.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.pending.push(Number(n));
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(Buffer.from(this.pending));
    this.pending = [];
  }
}

/** Reads protobuf fields from `buf[pos, end)`. */
export class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos = 0,
    private end = buf.length,
  ) {}

  more(): boolean {
    return this.pos < this.end;
  }

  /** The next field's number and wire type. */
  field(): [number, number] {
    const t = this.varint();
    return [t >>> 3, t & 7];
  }

  /** The next field's tag, `tag(field, wire)`: for the decoders of the many messages of a listing, which allocate nothing per field. */
  tag(): number {
    return this.varint();
  }

  /** A varint as a decimal string: int64 ids (leases) exceed 2^53. `unsigned` for uint64 (cluster ids). */
  varintString(unsigned = false): string {
    const first = this.buf[this.pos];
    // Most revisions, flags and leases of 0: one byte.
    if (first < 0x80 && this.pos < this.end) {
      this.pos++;
      return String(first);
    }
    let lo = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.buf[this.pos++];
      if (shift < 49) lo += (b & 0x7f) * 2 ** shift;
      else return this.bigVarint(lo, shift, b, unsigned);
      shift += 7;
    } while (b & 0x80);
    this.check();
    return String(lo);
  }

  private bigVarint(lo: number, shift: number, first: number, unsigned: boolean): string {
    let n = BigInt(lo);
    let b = first;
    for (;;) {
      n |= BigInt(b & 0x7f) << BigInt(shift);
      if (!(b & 0x80)) {
        this.check();
        return (unsigned ? BigInt.asUintN(64, n) : BigInt.asIntN(64, n)).toString();
      }
      shift += 7;
      b = this.buf[this.pos++];
    }
  }

  /** A varint known to be small: a tag, a length, a flag, a TTL. */
  varint(): number {
    const first = this.buf[this.pos];
    // Tags and most lengths: one byte. At or past the end, the loop below reads on and check() throws.
    if (first < 0x80 && this.pos < this.end) {
      this.pos++;
      return first;
    }
    let n = 0;
    let shift = 0;
    let b: number;
    do {
      if (shift > 49) throw new Error('protobuf: a length or tag is too large');
      b = this.buf[this.pos++];
      n += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    this.check();
    return n;
  }

  bool(): boolean {
    return this.varint() !== 0;
  }

  bytes(): Buffer {
    const length = this.varint();
    const b = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    this.check();
    return b;
  }

  string(): string {
    return this.bytes().toString();
  }

  /** An embedded message, as a reader of its own bytes. */
  message(): Reader {
    const length = this.varint();
    const inner = new Reader(this.buf, this.pos, this.pos + length);
    this.pos += length;
    this.check();
    return inner;
  }

  /**
   * An embedded message, read by `decode` on this reader held to the message's bytes:
   * message() without a reader per message, for the thousands of KeyValues of a page.
   */
  embedded<T>(decode: (r: Reader) => T): T {
    const length = this.varint();
    const outer = this.end;
    const end = this.pos + length;
    if (end > outer) throw new Error('protobuf: a field runs past the end of its message');
    this.end = end;
    const value = decode(this);
    this.pos = end;
    this.end = outer;
    return value;
  }

  skip(wire: number): void {
    if (wire === VARINT) this.varintString();
    else if (wire === LENGTH_DELIMITED) {
      const length = this.varint(); // read before `pos`, which it moves
      this.pos += length;
    }
    else if (wire === 1) this.pos += 8;
    else if (wire === 5) this.pos += 4;
    else throw new Error(`protobuf: unexpected wire type ${wire}`);
    this.check();
  }

  /** A field that runs past its message means the answer is not what it claims to be. */
  private check(): void {
    if (this.pos > this.end) throw new Error('protobuf: a field runs past the end of its message');
  }
}

/** A field's tag, as it precedes the field on the wire. */
export const tag = (field: number, wire: number): number => (field << 3) | wire;

const KV_KEY = tag(1, LENGTH_DELIMITED);
const KV_CREATE_REVISION = tag(2, VARINT);
const KV_MOD_REVISION = tag(3, VARINT);
const KV_VALUE = tag(5, LENGTH_DELIMITED);
const KV_LEASE = tag(6, VARINT);

/** mvccpb.KeyValue: key = 1, create_revision = 2, mod_revision = 3, version = 4, value = 5, lease = 6. */
export function decodeKeyValue(r: Reader): RawKeyValue {
  const kv: RawKeyValue = { key: EMPTY, value: EMPTY, lease: '0', create_revision: '0', mod_revision: '0' };
  while (r.more()) {
    const t = r.tag();
    if (t === KV_KEY) kv.key = r.bytes();
    else if (t === KV_VALUE) kv.value = r.bytes();
    else if (t === KV_CREATE_REVISION) kv.create_revision = r.varintString();
    else if (t === KV_MOD_REVISION) kv.mod_revision = r.varintString();
    else if (t === KV_LEASE) kv.lease = r.varintString();
    else r.skip(t & 7);
  }
  return kv;
}

/** etcdserverpb.ResponseHeader: cluster_id = 1, member_id = 2 (uint64), revision = 3, raft_term = 4. */
export interface ResponseHeader {
  cluster_id: string;
  member_id: string;
  revision: string;
  raft_term: string;
}

export function decodeHeader(r: Reader): ResponseHeader {
  const header: ResponseHeader = { cluster_id: '0', member_id: '0', revision: '0', raft_term: '0' };
  while (r.more()) {
    const [field, wire] = r.field();
    if (wire !== VARINT) r.skip(wire);
    else if (field === 1) header.cluster_id = r.varintString(true);
    else if (field === 2) header.member_id = r.varintString(true);
    else if (field === 3) header.revision = r.varintString();
    else if (field === 4) header.raft_term = r.varintString(true);
    else r.skip(wire);
  }
  return header;
}
