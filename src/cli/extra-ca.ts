/**
 * NODE_EXTRA_CA_CERTS when bin/svcreg.js started Node without it (so that Node does not
 * read the file, and its own root certificates, on every start): put back for the commands
 * svcreg runs, and trusted by svcreg's own TLS connections as Node would have trusted it.
 */
import { readFileSync } from 'node:fs';
import { warn, type Io } from '../output/io.js';

/** Where bin/svcreg.js keeps NODE_EXTRA_CA_CERTS while Node starts. */
const MOVED = 'SVCREG_NODE_EXTRA_CA_CERTS';

/**
 * Puts NODE_EXTRA_CA_CERTS back into `env` if the launcher moved it aside, and returns the
 * file Node did not load (undefined when Node loaded it itself, or none was set).
 */
export function restoreExtraCaCerts(env: NodeJS.ProcessEnv): string | undefined {
  const file = env[MOVED];
  if (file === undefined) return undefined;
  delete env[MOVED];
  env.NODE_EXTRA_CA_CERTS = file;
  return file || undefined;
}

/**
 * The CA certificates Node trusts by default with NODE_EXTRA_CA_CERTS=`file`: its root
 * certificates and the file's. Like Node, a file that cannot be read is ignored with a warning.
 */
export async function defaultCaWith(file: string, io: Io): Promise<Buffer> {
  // Loaded here: only an https:// endpoint without --cacert gets this far.
  const { rootCertificates } = await import('node:tls');
  const roots = Buffer.from(`${rootCertificates.join('\n')}\n`);
  try {
    return Buffer.concat([roots, readFileSync(file)]);
  } catch (err) {
    warn(io, `ignoring extra certs from NODE_EXTRA_CA_CERTS=${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    return roots;
  }
}
