// The floor of a JSON listing in Node, for `npm run bench`: the least any Node client can do
// to list a prefix. It starts Node, opens one http2 connection, pages through the range with
// KV.Range (pages as svcreg reads them) and writes every value to stdout. With `--json` it
// also parses each value and writes it back indented, as `list --instances -o json` must;
// nothing else (no checks, no escaping). CommonJS and self-contained, so nothing but Node's
// own start is paid before the first request.
//   node bench/listing-floor.cjs ENDPOINT PREFIX [--json]
'use strict';
const http2 = require('node:http2');

const [endpoint, prefix, mode] = process.argv.slice(2);
const PAGES = [1000, 20000]; // svcreg's LARGE_PAGES

function varint(n, out) {
  for (; n > 0x7f; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  out.push(n);
}

/** A framed RangeRequest: key = 1, range_end = 2, limit = 3, revision = 4. */
function rangeRequest(key, end, limit, revision) {
  const m = [];
  for (const [tag, bytes] of [[0x0a, key], [0x12, end]]) {
    m.push(tag);
    varint(bytes.length, m);
    m.push(...bytes);
  }
  m.push(0x18);
  varint(limit, m);
  if (revision) {
    m.push(0x20);
    varint(revision, m);
  }
  const frame = Buffer.alloc(5 + m.length);
  frame.writeUInt32BE(m.length, 1);
  Buffer.from(m).copy(frame, 5);
  return frame;
}

/** Calls `onValue` with each value's text; returns the header's revision, `more` and the last key. */
function decodeRange(buf, onValue) {
  let pos = 0;
  const read = () => {
    let b = buf[pos++];
    let n = b & 0x7f;
    for (let mul = 0x80; b & 0x80; mul *= 0x80) n += ((b = buf[pos++]) & 0x7f) * mul;
    return n;
  };
  const res = { revision: 0, more: false, lastKey: undefined };
  while (pos < buf.length) {
    const tag = read();
    if (tag === 0x18) res.more = read() !== 0;
    else if (tag === 0x20) read(); // count
    else if (tag === 0x0a || tag === 0x12) {
      const end = read() + pos;
      while (pos < end) {
        const t = read();
        if ((t & 7) === 0) {
          const v = read();
          if (tag === 0x0a && t === 0x18) res.revision = v;
        } else {
          const length = read();
          if (tag === 0x12 && t === 0x0a) res.lastKey = buf.subarray(pos, pos + length);
          if (tag === 0x12 && t === 0x2a) onValue(buf.utf8Slice(pos, pos + length));
          pos += length;
        }
      }
    } else throw new Error(`unexpected field ${tag}`);
  }
  return res;
}

const session = http2.connect(endpoint, { settings: { initialWindowSize: 1 << 24 } });
session.on('connect', () => session.setLocalWindowSize(64 << 20));
const range = (key, end, limit, revision) =>
  new Promise((resolve, reject) => {
    const s = session.request({ ':method': 'POST', ':path': '/etcdserverpb.KV/Range', 'content-type': 'application/grpc', te: 'trailers' });
    const chunks = [];
    s.on('data', (c) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks).subarray(5))).on('error', reject);
    s.end(rangeRequest(key, end, limit, revision));
  });

const write = mode === '--json' ? (v) => JSON.stringify([JSON.parse(v)], null, 2).slice(2, -2) : (v) => v;
(async () => {
  const end = Buffer.from(prefix);
  end[end.length - 1]++;
  let out = [];
  let written = 0;
  let key = Buffer.from(prefix);
  let revision = 0;
  for (let page = 0; ; page++) {
    const buf = await range(key, end, PAGES[Math.min(page, 1)], revision);
    const r = decodeRange(buf, (v) => out.push(write(v)));
    revision ||= r.revision;
    if (out.length) process.stdout.write(`${written ? ',\n' : '[\n'}${out.join(',\n')}`);
    written += out.length;
    out = [];
    if (!r.more) break;
    key = Buffer.concat([r.lastKey, Buffer.from([0])]);
  }
  process.stdout.write(written ? '\n]\n' : '[]\n');
  session.close();
})();
