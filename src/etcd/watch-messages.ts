/**
 * etcd's Watch messages (etcdserverpb.WatchRequest/WatchResponse, mvccpb.Event), decoded
 * into the shape etcd3 gave them: int64 as decimal strings, event types as 'Put' | 'Delete'.
 */
import { decodeHeader, decodeKeyValue, LENGTH_DELIMITED, Reader, VARINT, Writer, type ResponseHeader } from './protobuf.js';
import type { RawKeyValue } from './transport.js';

export interface WatchCreateRequest {
  key: Buffer;
  range_end?: Buffer;
  start_revision?: number;
  prev_kv?: boolean;
  progress_notify?: boolean;
  /** Split a response larger than etcd's request limit into several (etcd 3.4 and later). */
  fragment?: boolean;
}

export type WatchRequest = { create_request: WatchCreateRequest } | { cancel_request: { watch_id: string | number } };

export interface WatchEventMessage {
  type: 'Put' | 'Delete';
  kv: RawKeyValue;
  prev_kv: RawKeyValue | null;
}

export interface WatchResponse {
  header: ResponseHeader;
  watch_id: string;
  created: boolean;
  canceled: boolean;
  compact_revision: string;
  cancel_reason: string;
  events: WatchEventMessage[];
}

/**
 * WatchRequest: create_request = 1 (key = 1, range_end = 2, start_revision = 3,
 * progress_notify = 4, prev_kv = 6, fragment = 8), cancel_request = 2 (watch_id = 1).
 */
export function encodeWatchRequest(request: WatchRequest): Buffer {
  if ('cancel_request' in request) return new Writer().message(2, new Writer().int(1, request.cancel_request.watch_id)).finish();
  const c = request.create_request;
  const create = new Writer().bytes(1, c.key).bytes(2, c.range_end).int(3, c.start_revision).bool(4, c.progress_notify).bool(6, c.prev_kv).bool(8, c.fragment);
  return new Writer().message(1, create).finish();
}

/** mvccpb.Event: type = 1 (PUT = 0, DELETE = 1), kv = 2, prev_kv = 3. */
function decodeEvent(r: Reader): WatchEventMessage {
  const event: WatchEventMessage = { type: 'Put', kv: decodeKeyValue(new Reader(Buffer.alloc(0))), prev_kv: null };
  while (r.more()) {
    const [field, wire] = r.field();
    if (field === 1 && wire === VARINT) event.type = r.varint() === 1 ? 'Delete' : 'Put';
    else if (field === 2 && wire === LENGTH_DELIMITED) event.kv = decodeKeyValue(r.message());
    else if (field === 3 && wire === LENGTH_DELIMITED) event.prev_kv = decodeKeyValue(r.message());
    else r.skip(wire);
  }
  return event;
}

/**
 * WatchResponse: header = 1, watch_id = 2, created = 3, canceled = 4,
 * compact_revision = 5, cancel_reason = 6, events = 11.
 */
export function decodeWatchResponse(buf: Buffer): WatchResponse {
  const res: WatchResponse = {
    header: decodeHeader(new Reader(Buffer.alloc(0))),
    watch_id: '0',
    created: false,
    canceled: false,
    compact_revision: '0',
    cancel_reason: '',
    events: [],
  };
  const r = new Reader(buf);
  while (r.more()) {
    const [field, wire] = r.field();
    if (field === 11 && wire === LENGTH_DELIMITED) res.events.push(decodeEvent(r.message()));
    else if (field === 1 && wire === LENGTH_DELIMITED) res.header = decodeHeader(r.message());
    else if (field === 2 && wire === VARINT) res.watch_id = r.varintString();
    else if (field === 3 && wire === VARINT) res.created = r.bool();
    else if (field === 4 && wire === VARINT) res.canceled = r.bool();
    else if (field === 5 && wire === VARINT) res.compact_revision = r.varintString();
    else if (field === 6 && wire === LENGTH_DELIMITED) res.cancel_reason = r.string();
    else r.skip(wire);
  }
  return res;
}
