import { spawn } from 'node:child_process';
import { readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateKeyPair } from '../../src/pki/certificate-key-pair.js';
import { generateSelfSignedCertificate } from '../../src/pki/generate.js';
import { pairFileName, previousPairFileName, readPair, readPreviousPair, writePairAtomically } from '../../src/pki/pair-file.js';
import { checkServingPair } from '../../src/pki/validate.js';
import { makeWorkdir, type Workdir } from './openssl.js';

let work: Workdir;
let first: CertificateKeyPair;
let second: CertificateKeyPair;
let third: CertificateKeyPair;

beforeAll(async () => {
  work = await makeWorkdir();
  const options = { commonName: 'pair.example', dnsNames: ['pair.example'], ipAddresses: [], validBy: new Date(Date.now() + 86_400_000) };
  [first, second, third] = await Promise.all([
    generateSelfSignedCertificate(options),
    generateSelfSignedCertificate({ ...options, keyAlgorithm: 'RSA-2048' }),
    generateSelfSignedCertificate({ ...options, keyAlgorithm: 'ECDSA-P384' }),
  ]);
});

afterAll(() => work.remove());

let folderCount = 0;
function freshFolder(): string {
  return join(work.path, `data-${++folderCount}`);
}

describe('the pair file', () => {
  it('reads back exactly what was written, as one file with mode 0600', async () => {
    const dir = freshFolder();
    expect(await readPair(dir)).toBeNull();
    await writePairAtomically(dir, first);
    expect(await readPair(dir)).toEqual(first);
    expect(await readdir(dir)).toEqual([pairFileName]);
    expect((await stat(join(dir, pairFileName))).mode & 0o777).toBe(0o600);
    const text = await work.readText(join(dir, pairFileName).slice(work.path.length + 1));
    expect(text.indexOf('PRIVATE KEY')).toBeLessThan(text.indexOf('CERTIFICATE'));
  });

  it('keeps the replaced pair as the previous one, also with mode 0600', async () => {
    const dir = freshFolder();
    await writePairAtomically(dir, first);
    expect(await readPreviousPair(dir)).toBeNull();
    await writePairAtomically(dir, second);
    expect(await readPair(dir)).toEqual(second);
    expect(await readPreviousPair(dir)).toEqual(first);
    await writePairAtomically(dir, second); // same pair again: previous stays
    expect(await readPreviousPair(dir)).toEqual(first);
    await writePairAtomically(dir, third);
    expect(await readPreviousPair(dir)).toEqual(second);
    expect((await stat(join(dir, previousPairFileName))).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).sort()).toEqual([previousPairFileName, pairFileName].sort());
  });

  it('keeps writes from one process in order', async () => {
    const dir = freshFolder();
    await Promise.all([writePairAtomically(dir, first), writePairAtomically(dir, second), writePairAtomically(dir, third)]);
    expect(await readPair(dir)).toEqual(third);
    expect(await readPreviousPair(dir)).toEqual(second);
  });

  it('ignores a temporary file left by a killed write, and removes it once stale', async () => {
    const dir = freshFolder();
    await writePairAtomically(dir, first);
    const leftover = join(dir, '.server-certificate.99999.abcdef012345.tmp');
    await writeFile(leftover, second.privateKeyPem.slice(0, 50), { mode: 0o600 }); // cut off mid-write
    expect(await readPair(dir)).toEqual(first);
    expect(await readdir(dir)).toContain('.server-certificate.99999.abcdef012345.tmp'); // young: may be another writer's
    const longAgo = new Date(Date.now() - 10 * 60_000);
    await utimes(leftover, longAgo, longAgo);
    expect(await readPair(dir)).toEqual(first);
    expect(await readdir(dir)).toEqual([pairFileName]);
  });

  it('refuses a hand-edited file that lost its key', async () => {
    const dir = freshFolder();
    await writePairAtomically(dir, first);
    await writeFile(join(dir, pairFileName), first.certificatePem);
    await expect(readPair(dir)).rejects.toMatchObject({ reason: 'NotPem' });
  });

  it('never holds a broken pair when the writing process is killed at any moment', async () => {
    const dir = freshFolder();
    await work.write('first.json', JSON.stringify(first));
    await work.write('second.json', JSON.stringify(second));
    const writer = fileURLToPath(new URL('./pair-file-writer.ts', import.meta.url));
    for (let attempt = 0; attempt < 4; attempt++) {
      const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, work.file('first.json'), work.file('second.json')], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
      });
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 60));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;

      const current = await readPair(dir);
      expect([first, second]).toContainEqual(current);
      checkServingPair(current!);
      expect([first, second]).toContainEqual(await readPreviousPair(dir));
    }
  });
});
