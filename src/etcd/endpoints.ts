/**
 * Where etcd is and how long to wait for it: endpoint URLs and the defaults. Kept apart
 * from connection.ts so `--help` can show the defaults without loading http and TLS.
 */
import { UsageError } from './errors.js';

/** etcd's default client URL, as etcdctl assumes it. */
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:2379';
/** Deadline of each request unless `timeoutMs` says otherwise. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** Parses endpoint URLs; throws a UsageError for anything that is not http(s)://host:port. */
export function parseEndpoints(endpoints: string[]): string[] {
  if (endpoints.length === 0) throw new UsageError('no etcd endpoint given');
  const parsed = endpoints.map((raw) => {
    const text = raw.includes('://') ? raw : `http://${raw}`;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new UsageError(`invalid endpoint ${JSON.stringify(raw)}`, 'use http://host:port or https://host:port');
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname || (url.pathname !== '/' && url.pathname !== '')) {
      throw new UsageError(`invalid endpoint ${JSON.stringify(raw)}`, 'use http://host:port or https://host:port');
    }
    return `${url.protocol}//${url.hostname}:${url.port || '2379'}`;
  });
  const secure = parsed.filter((e) => e.startsWith('https:')).length;
  if (secure > 0 && secure < parsed.length) throw new UsageError('endpoints mix http:// and https://', 'use one scheme for all endpoints');
  return parsed;
}
