/**
 * The protobuf encoding of etcd's RangeRequest and RangeResponse (etcdserverpb, rpc.proto
 * and kv.proto), written out by hand: decoding 100,000 KeyValues this way is several times
 * faster than through protobufjs, and needs none of its start-up.
 */
import type { RangeRequest, RangeResponse, RawKeyValue } from './transport.js';

const VARINT = 0;
const LENGTH_DELIMITED = 2;

function varint(value: number | bigint, out: number[]): void {
  let n = BigInt(value);
  while (n > 0x7fn) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  out.push(Number(n));
}

function tag(field: number, wire: number, out: number[]): void {
  varint((field << 3) | wire, out);
}

/** RangeRequest: key = 1, range_end = 2, limit = 3, revision = 4, keys_only = 8, count_only = 9. */
export function encodeRangeRequest(r: RangeRequest): Buffer {
  const parts: Buffer[] = [];
  const bytes = (field: number, b: Buffer) => {
    const prefix: number[] = [];
    tag(field, LENGTH_DELIMITED, prefix);
    varint(b.length, prefix);
    parts.push(Buffer.from(prefix), b);
  };
  const number = (field: number, n: number) => {
    const out: number[] = [];
    tag(field, VARINT, out);
    varint(n, out);
    parts.push(Buffer.from(out));
  };
  bytes(1, r.key);
  if (r.range_end) bytes(2, r.range_end);
  if (r.limit) number(3, r.limit);
  if (r.revision) number(4, r.revision);
  if (r.keys_only) number(8, 1);
  if (r.count_only) number(9, 1);
  return Buffer.concat(parts);
}

/** Reads protobuf fields from `buf[start, end)`. */
class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    private readonly end: number,
  ) {}

  more(): boolean {
    return this.pos < this.end;
  }

  /** A varint as a decimal string: int64 ids (leases) exceed 2^53. */
  varintString(): string {
    let lo = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.buf[this.pos++];
      if (shift < 49) lo += (b & 0x7f) * 2 ** shift;
      else return this.bigVarint(lo, shift, b);
      shift += 7;
    } while (b & 0x80);
    this.check();
    return String(lo);
  }

  private bigVarint(lo: number, shift: number, first: number): string {
    let n = BigInt(lo);
    let b = first;
    for (;;) {
      n |= BigInt(b & 0x7f) << BigInt(shift);
      if (!(b & 0x80)) {
        this.check();
        return BigInt.asIntN(64, n).toString();
      }
      shift += 7;
      b = this.buf[this.pos++];
    }
  }

  /** A varint known to be small: a tag, a length, a flag. */
  varint(): number {
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

  bytes(): Buffer {
    const length = this.varint();
    const b = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    this.check();
    return b;
  }

  skip(wire: number): void {
    if (wire === VARINT) this.varintString();
    else if (wire === LENGTH_DELIMITED) this.skipBytes(this.varint());
    else if (wire === 1) this.pos += 8;
    else if (wire === 5) this.pos += 4;
    else throw new Error(`protobuf: unexpected wire type ${wire}`);
    this.check();
  }

  skipBytes(length: number): void {
    this.pos += length;
    this.check();
  }

  /** A field that runs past its message means the answer is not what it claims to be. */
  private check(): void {
    if (this.pos > this.end) throw new Error('protobuf: a field runs past the end of its message');
  }

  /** The next field's number and wire type. */
  field(): [number, number] {
    const t = this.varint();
    return [t >>> 3, t & 7];
  }
}

/** KeyValue: key = 1, create_revision = 2, mod_revision = 3, version = 4, value = 5, lease = 6. */
function decodeKeyValue(r: Reader): RawKeyValue {
  const kv: RawKeyValue = { key: EMPTY, value: EMPTY, lease: '0', create_revision: '0', mod_revision: '0' };
  while (r.more()) {
    const [field, wire] = r.field();
    if (field === 1 && wire === LENGTH_DELIMITED) kv.key = r.bytes();
    else if (field === 5 && wire === LENGTH_DELIMITED) kv.value = r.bytes();
    else if (field === 2 && wire === VARINT) kv.create_revision = r.varintString();
    else if (field === 3 && wire === VARINT) kv.mod_revision = r.varintString();
    else if (field === 6 && wire === VARINT) kv.lease = r.varintString();
    else r.skip(wire);
  }
  return kv;
}

const EMPTY = Buffer.alloc(0);

/** RangeResponse: header = 1 (ResponseHeader: revision = 3), kvs = 2, more = 3, count = 4. */
export function decodeRangeResponse(buf: Buffer): RangeResponse {
  const res: RangeResponse = { revision: '0', kvs: [], more: false, count: '0' };
  const r = new Reader(buf, 0, buf.length);
  while (r.more()) {
    const [field, wire] = r.field();
    if ((field === 1 || field === 2) && wire === LENGTH_DELIMITED) {
      const length = r.varint();
      const inner = new Reader(buf, r.pos, r.pos + length);
      r.skipBytes(length);
      if (field === 2) {
        res.kvs.push(decodeKeyValue(inner));
        continue;
      }
      while (inner.more()) {
        const [f, w] = inner.field();
        if (f === 3 && w === VARINT) res.revision = inner.varintString();
        else inner.skip(w);
      }
    } else if (field === 3 && wire === VARINT) res.more = r.varint() !== 0;
    else if (field === 4 && wire === VARINT) res.count = r.varintString();
    else r.skip(wire);
  }
  return res;
}
