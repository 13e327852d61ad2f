/**
 * etcd's JSON gateway (`POST /v3/...` on the client port), spoken with Node's own
 * http module: unary requests need neither http2 nor any protobuf, so one-shot commands
 * start fast and a registrant renews its lease over one kept-alive connection. Bytes
 * travel as base64, int64 as strings, and fields at their default value are left out
 * of answers.
 */
import type { Agent, IncomingMessage, request as httpRequest } from 'node:http';
import type { AuthToken, Credentials } from './auth-token.js';
import type { Deadline } from './deadline.js';
import {
  alarmName,
  asRequestError,
  EtcdRequestError,
  NoGatewayError,
  type Compare,
  type MemberStatus,
  type RaisedAlarm,
  type RangeRequest,
  type RangeResponse,
  type RawKeyValue,
  type RequestOp,
  type Transport,
  type TxnRequest,
  type TxnResponse,
} from './transport.js';

/** TLS material, already read from files. */
export interface TlsFiles {
  cacert?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Sockets per endpoint: plenty for a process holding many registrations. */
const MAX_SOCKETS = 16;

type Json = Record<string, unknown>;
interface JsonKeyValue {
  key: string;
  value?: string;
  lease?: string;
  create_revision?: string;
  mod_revision?: string;
}

const b64 = (bytes: Buffer): string => bytes.toString('base64');
const EMPTY = Buffer.alloc(0);

function decodeKvs(kvs: JsonKeyValue[] | undefined): RawKeyValue[] {
  if (!kvs) return [];
  return kvs.map((kv) => ({
    key: Buffer.from(kv.key, 'base64'),
    value: kv.value ? Buffer.from(kv.value, 'base64') : EMPTY,
    lease: kv.lease ?? '0',
    create_revision: kv.create_revision ?? '0',
    mod_revision: kv.mod_revision ?? '0',
  }));
}

function encodeRange(r: RangeRequest): Json {
  return {
    key: b64(r.key),
    range_end: r.range_end && b64(r.range_end),
    limit: r.limit,
    revision: r.revision || undefined,
    keys_only: r.keys_only,
    count_only: r.count_only,
  };
}

function encodeCompare(c: Compare): Json {
  const common = { key: b64(c.key), result: 'EQUAL' };
  switch (c.target) {
    case 'Create':
      return { ...common, target: 'CREATE', create_revision: String(c.create_revision) };
    case 'Mod':
      return { ...common, target: 'MOD', mod_revision: String(c.mod_revision) };
    case 'Lease':
      return { ...common, target: 'LEASE', lease: c.lease };
  }
}

function encodeOp(op: RequestOp): Json {
  if ('request_put' in op) {
    const { key, value, lease } = op.request_put;
    return { request_put: { key: b64(key), value: b64(value), lease } };
  }
  if ('request_range' in op) return { request_range: encodeRange(op.request_range) };
  return { request_delete_range: { key: b64(op.request_delete_range.key) } };
}

/** The requests of one endpoint, over its JSON gateway. */
export class GatewayTransport implements Transport {
  private readonly url: URL;
  private readonly host: string;
  /** http or https, with its agent; https (and TLS with it) loads only for https:// endpoints. */
  private readonly client: Promise<{ request: typeof httpRequest; agent: Agent }>;

  /**
   * `token` is the endpoint's auth token, when auth is on; `listings` gives the
   * endpoint's gRPC transport, which reads the pages of large listings.
   */
  constructor(
    endpoint: string,
    tls: TlsFiles | undefined,
    private readonly token: AuthToken | undefined,
    private readonly listings: () => Promise<Pick<Transport, 'listPage'>>,
  ) {
    this.url = new URL(endpoint);
    // URL keeps an IPv6 address in brackets; http would look that up as a host name.
    this.host = this.url.hostname.replace(/^\[(.*)\]$/, '$1');
    // Idle sockets are kept (and unref'd by the agent), so a registrant renews on one connection.
    const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS };
    this.client =
      this.url.protocol === 'https:'
        ? import('node:https').then(({ Agent, request }) => ({ request, agent: new Agent({ ...agentOptions, ca: tls?.cacert, cert: tls?.cert, key: tls?.key }) }))
        : import('node:http').then(({ Agent, request }) => ({ request, agent: new Agent(agentOptions) }));
  }

  async range(request: RangeRequest, deadline: Deadline): Promise<RangeResponse> {
    const res = await this.post('/v3/kv/range', encodeRange(request), deadline);
    const header = res.header as { revision: string };
    return { revision: header.revision, kvs: decodeKvs(res.kvs as JsonKeyValue[]), more: res.more === true, count: (res.count as string) ?? '0' };
  }

  /** Pages of listings go over gRPC: for many keys, etcd's JSON encoding is the slow part. */
  async listPage(request: RangeRequest, deadline: Deadline): Promise<RangeResponse> {
    return (await this.listings()).listPage(request, deadline);
  }

  async txn(request: TxnRequest, deadline: Deadline): Promise<TxnResponse> {
    const body = { compare: request.compare.map(encodeCompare), success: request.success.map(encodeOp), failure: request.failure?.map(encodeOp) };
    const res = await this.post('/v3/kv/txn', body, deadline);
    const responses = (res.responses ?? []) as { response_range?: { kvs?: JsonKeyValue[] } }[];
    return {
      succeeded: res.succeeded === true,
      ranges: responses.filter((r) => r.response_range).map((r) => decodeKvs(r.response_range!.kvs)),
    };
  }

  async leaseGrant(ttl: number, deadline: Deadline): Promise<{ id: string; ttl: number }> {
    const res = await this.post('/v3/lease/grant', { TTL: ttl }, deadline);
    return { id: res.ID as string, ttl: Number(res.TTL ?? 0) };
  }

  async leaseRevoke(id: string, deadline: Deadline): Promise<void> {
    await this.post('/v3/lease/revoke', { ID: id }, deadline);
  }

  async leaseKeepAlive(id: string, deadline: Deadline): Promise<number> {
    // A streaming RPC: the gateway sends one message per line, each as {result} or {error}.
    const res = await this.post('/v3/lease/keepalive', { ID: id }, deadline);
    return Number((res.result as Json | undefined)?.TTL ?? 0);
  }

  async leaseTimeToLive(id: string, deadline: Deadline): Promise<number> {
    const res = await this.post('/v3/lease/timetolive', { ID: id }, deadline);
    return Number(res.TTL ?? -1);
  }

  async status(deadline: Deadline): Promise<MemberStatus> {
    const res = await this.post('/v3/maintenance/status', {}, deadline);
    const header = (res.header ?? {}) as Json;
    const int = (from: Json, name: string) => String(from[name] ?? '0');
    return {
      member_id: int(header, 'member_id'),
      revision: int(header, 'revision'),
      version: String(res.version ?? ''),
      db_size: int(res, 'dbSize'),
      db_size_in_use: int(res, 'dbSizeInUse'),
      leader: int(res, 'leader'),
      raft_index: int(res, 'raftIndex'),
      raft_term: int(res, 'raftTerm'),
    };
  }

  async alarms(deadline: Deadline): Promise<RaisedAlarm[]> {
    const res = await this.post('/v3/maintenance/alarm', { action: 'GET' }, deadline);
    const alarms = (res.alarms ?? []) as { memberID?: string; alarm?: string | number }[];
    return alarms.map((a) => ({ member_id: String(a.memberID ?? '0'), alarm: alarmName(a.alarm) }));
  }

  close(): void {
    void this.client.then(({ agent }) => agent.destroy());
  }

  private post(path: string, body: Json, deadline: Deadline): Promise<Json> {
    const json = { 'content-type': 'application/json' };
    if (!this.token) return this.send(path, body, json, deadline);
    return this.token.with(deadline, this.authenticate, (token) => this.send(path, body, { ...json, authorization: token }, deadline));
  }

  private readonly authenticate = async ({ username, password }: Credentials, deadline: Deadline): Promise<string> =>
    (await this.send('/v3/auth/authenticate', { name: username, password }, {}, deadline)).token as string;

  private async send(path: string, body: Json, headers: Record<string, string>, deadline: Deadline): Promise<Json> {
    const { request, agent } = await this.client;
    return new Promise((resolve, reject) => {
      const req = request(
        // The deadline's signal frees the socket; Connection rejects the request itself.
        { host: this.host, port: this.url.port, path, method: 'POST', agent, headers, signal: deadline.signal },
        (res) => readAnswer(res).then(resolve, (err) => reject(asRequestError(err))),
      );
      req.on('error', (err) => reject(asRequestError(err)));
      req.end(JSON.stringify(body));
    });
  }
}

async function readAnswer(res: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString();
  let answer: Json;
  try {
    answer = JSON.parse(text) as Json;
  } catch {
    throw new NoGatewayError(`no JSON gateway (HTTP ${res.statusCode}: ${text.slice(0, 100).trim()})`);
  }
  const error = answer.error;
  if (typeof error === 'string' && error) throw new EtcdRequestError(error, Number(answer.code ?? 2));
  // Streaming answers carry errors as an object.
  if (error && typeof error === 'object') {
    const e = error as { message?: string; grpc_code?: number };
    throw new EtcdRequestError(e.message ?? 'error', Number(e.grpc_code ?? 2));
  }
  if (res.statusCode !== 200) throw new NoGatewayError(`no JSON gateway (HTTP ${res.statusCode})`);
  return answer;
}
