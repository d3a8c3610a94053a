import { randomBytes } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';

/** A certificate that was replaced, kept visible for the rotation grace period so pinned peers can re-pin. */
export interface ReplacedCertificate {
  thumbprint: string;
  sha256Fingerprint: string;
  subject: string;
  validBy: string;
  replacedAt: string;
}

/**
 * Facts about the serving certificate that the certificate itself cannot tell:
 * whether Rampart generated it, and what it replaced. Kept per node, beside the
 * pair, and tied to it by thumbprint: after a crash between the two writes the
 * facts simply do not match and are ignored.
 */
export interface ServingMeta {
  thumbprint: string;
  automaticallyGenerated: boolean;
  installedAt: string;
  replaced: ReplacedCertificate[];
}

const FILE = 'server-certificate.meta.json';

export async function readServingMeta(dataDir: string): Promise<ServingMeta | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path.join(dataDir, FILE), 'utf8')) as ServingMeta;
    if (typeof parsed.thumbprint !== 'string' || !Array.isArray(parsed.replaced)) return undefined;
    return parsed;
  } catch {
    return undefined;
  }
}

export async function writeServingMeta(dataDir: string, meta: ServingMeta): Promise<void> {
  const target = path.join(dataDir, FILE);
  const temp = path.join(dataDir, `.${FILE}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(meta, null, 2));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, target);
}
