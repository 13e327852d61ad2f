// Starting a throwaway etcd on loopback: shared by the test harness and the demo.
// Plain JavaScript so the demo runs without a build step of its own.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { get } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** @returns {Promise<number>} a free TCP port on 127.0.0.1 (bound, then released) */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * @param {string} clientUrl
 * @param {{ ca: Buffer, cert: Buffer, key: Buffer }} [tls] client credentials for an https:// member
 * @returns {Promise<boolean>} whether etcd's /health says true
 */
export function healthy(clientUrl, tls) {
  return new Promise((resolve) => {
    const req = (tls ? httpsGet : get)(`${clientUrl}/health`, { timeout: 1000, ...tls }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('true')));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => (req.destroy(), resolve(false)));
  });
}

/** @returns {string} a new directory in /dev/shm (memory) or the temp dir */
export function scratchDir() {
  return mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'svcreg-etcd-'));
}

/**
 * Spawns one etcd member on 127.0.0.1.
 * @param {{ name: string, clientPort: number, peerPort: number, advertisedPeerPort?: number,
 *           dataDir: string, initialCluster: string, clusterToken: string, extraArgs?: string[],
 *           tls?: { caFile: string, certFile: string, keyFile: string } }} c
 *        with `tls`, clients must connect over https with a certificate signed by caFile;
 *        `advertisedPeerPort` (a proxy in front of peerPort) is where the other members dial it
 * @returns {import('node:child_process').ChildProcess}
 */
export function spawnEtcd(c) {
  const clientUrl = `${c.tls ? 'https' : 'http'}://127.0.0.1:${c.clientPort}`;
  const tlsArgs = c.tls
    ? ['--cert-file', c.tls.certFile, '--key-file', c.tls.keyFile, '--trusted-ca-file', c.tls.caFile, '--client-cert-auth']
    : [];
  const peerUrl = `http://127.0.0.1:${c.peerPort}`;
  const advertisedPeerUrl = `http://127.0.0.1:${c.advertisedPeerPort ?? c.peerPort}`;
  return spawn(
    process.env.ETCD_BIN ?? 'etcd',
    [
      '--name', c.name,
      '--data-dir', c.dataDir,
      '--listen-client-urls', clientUrl,
      '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', advertisedPeerUrl,
      '--initial-cluster', c.initialCluster,
      '--initial-cluster-token', c.clusterToken,
      '--initial-cluster-state', 'new',
      '--logger', 'zap',
      '--log-level', 'error',
      ...tlsArgs,
      ...(c.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}
