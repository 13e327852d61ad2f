/**
 * Small HTTP servers registered as real instances (`svcreg register web --port P -- node
 * server.js`), for tests with real consumers of the registry (nginx, Prometheus). Each
 * answers `/` with its id and `/metrics` with one metric, on a free loopback port.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli, type CliProcess } from './cli.js';
import { freePort } from './etcd.js';

const SERVER = `
const http = require('node:http');
const [port, id] = process.argv.slice(2);
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(req.url === '/metrics' ? 'backend_up 1\\n' : id);
});
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

export interface Backend {
  id: string;
  port: number;
  registrant: CliProcess;
}

/** Writes the server script into `dir` (once per directory) and returns its path. */
export function serverScript(dir: string): string {
  const path = join(dir, 'server.cjs');
  writeFileSync(path, SERVER);
  return path;
}

/** Registers `id` of `service` running the server; resolves once the registration is written. */
export async function startBackend(script: string, service: string, id: string, env: Record<string, string>, extra: string[] = []): Promise<Backend> {
  const port = await freePort();
  const registrant = startCli(['register', service, '--id', id, '--address', '127.0.0.1', '--port', String(port), '--ttl', '10', ...extra, '--', process.execPath, script, String(port), id], env);
  await registrant.waitFor(/\S/);
  return { id, port, registrant };
}
