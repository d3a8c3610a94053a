import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { CertificateKeyPair } from './certificate-key-pair.js';
import { CertificateInputError } from './errors.js';
import { certificatesToPem, pemBlocks, privateKeyLabels } from './pem-text.js';

/**
 * The server's certificate pair on disk, in the data folder.
 *
 * Requirement: the folder never holds a broken pair, even if the process is
 * killed mid-write. So:
 * - key and chain live in ONE file, `server-certificate.pem` (the key PEM,
 *   then the chain leaf first): a key and a certificate from different
 *   generations can never be read together, which two files renamed one
 *   after the other could not promise;
 * - it is written to a temporary file in the same folder (mode 0600: it
 *   holds the private key), fsync'd, renamed over the target (rename is
 *   atomic within one file system), and then the folder is fsync'd so the
 *   rename itself survives a power cut;
 * - before replacing it, the current pair is copied the same atomic way to
 *   `server-certificate.previous.pem`, one generation back, for rollback
 *   (e.g. after uploading a certificate that clients turn out not to trust:
 *   `readPreviousPair` and write it back).
 *
 * A crash can leave a temporary file behind; readers never look at it, and
 * `readPair` deletes stale ones.
 */

export const pairFileName = 'server-certificate.pem';
export const previousPairFileName = 'server-certificate.previous.pem';

const temporaryPrefix = '.server-certificate.';
const temporarySuffix = '.tmp';
/** Younger temporary files may belong to a write in progress in another process. */
const staleTemporaryAgeMs = 60_000;
/** Temporary files this process is writing right now, which cleanup must spare. */
const writesInProgress = new Set<string>();

/** Writes of one folder run one after the other, so "previous" is always the generation just replaced. */
const writeQueues = new Map<string, Promise<void>>();

export async function writePairAtomically(dir: string, pair: CertificateKeyPair): Promise<void> {
  const contents = serializePair(pair);
  const queued = (writeQueues.get(dir) ?? Promise.resolve()).then(() => replacePair(dir, contents));
  const settled = queued.catch(() => undefined);
  writeQueues.set(dir, settled);
  void settled.then(() => {
    if (writeQueues.get(dir) === settled) writeQueues.delete(dir);
  });
  return queued;
}

async function replacePair(dir: string, contents: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const current = await readIfExists(join(dir, pairFileName));
  if (current === contents) return;
  if (current !== null) await writeFileAtomically(dir, previousPairFileName, current);
  await writeFileAtomically(dir, pairFileName, contents);
}

/** The current pair, or null when none has been written yet. */
export async function readPair(dir: string): Promise<CertificateKeyPair | null> {
  await removeStaleTemporaryFiles(dir);
  return readPairFile(join(dir, pairFileName));
}

/** The pair before the last replacement, or null. */
export async function readPreviousPair(dir: string): Promise<CertificateKeyPair | null> {
  return readPairFile(join(dir, previousPairFileName));
}

function serializePair(pair: CertificateKeyPair): string {
  const blocks = pemBlocks(`${pair.privateKeyPem}\n${pair.certificatePem}`);
  const keys = blocks.filter((block) => privateKeyLabels.has(block.label));
  const certificates = blocks.filter((block) => block.label === 'CERTIFICATE');
  if (keys.length !== 1 || certificates.length === 0) {
    throw new TypeError('A pair to store needs exactly one private key and at least one certificate.');
  }
  return keys[0].text + certificatesToPem(certificates.map((block) => block.der));
}

async function readPairFile(path: string): Promise<CertificateKeyPair | null> {
  const contents = await readIfExists(path);
  if (contents === null) return null;
  const blocks = pemBlocks(contents);
  const keys = blocks.filter((block) => privateKeyLabels.has(block.label));
  const certificates = blocks.filter((block) => block.label === 'CERTIFICATE');
  if (keys.length !== 1 || certificates.length === 0) {
    // Only a hand edit gets here: our writes are atomic.
    throw new CertificateInputError('NotPem', `${path} does not hold one private key and its certificate.`);
  }
  return { certificatePem: certificatesToPem(certificates.map((block) => block.der)), privateKeyPem: keys[0].text };
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function writeFileAtomically(dir: string, name: string, contents: string): Promise<void> {
  const temporaryName = `${temporaryPrefix}${process.pid}.${randomBytes(6).toString('hex')}${temporarySuffix}`;
  const temporaryPath = join(dir, temporaryName);
  writesInProgress.add(temporaryName);
  try {
    // 'wx': never follow or reuse something already at that name.
    const handle = await open(temporaryPath, 'wx', 0o600);
    try {
      await handle.writeFile(contents, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporaryPath, join(dir, name));
  } catch (error) {
    await unlink(temporaryPath).catch(() => undefined);
    throw error;
  } finally {
    writesInProgress.delete(temporaryName);
  }
  await syncDirectory(dir);
}

/** Makes the rename durable. Windows cannot open a folder for this; there NTFS journals the rename itself. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
  } catch (error) {
    if (process.platform === 'win32') return;
    throw error;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function removeStaleTemporaryFiles(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const now = Date.now();
  for (const name of names) {
    if (!name.startsWith(temporaryPrefix) || !name.endsWith(temporarySuffix) || writesInProgress.has(name)) continue;
    const path = join(dir, name);
    try {
      if (now - (await stat(path)).mtimeMs < staleTemporaryAgeMs) continue;
      await unlink(path);
    } catch {
      // Gone already, or not ours to remove: either way it does not concern the reader.
    }
  }
}
