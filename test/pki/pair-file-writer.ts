/**
 * Child process for the kill test in pair-file.test.ts: rewrites the pair
 * file as fast as it can, alternating between two pairs, until killed.
 * Usage: pair-file-writer.ts <dir> <pairA.json> <pairB.json>
 */
import { readFile } from 'node:fs/promises';
import type { CertificateKeyPair } from '../../src/pki/certificate-key-pair.js';
import { writePairAtomically } from '../../src/pki/pair-file.js';

const [dir, first, second] = process.argv.slice(2);
const pairs: CertificateKeyPair[] = [JSON.parse(await readFile(first, 'utf8')), JSON.parse(await readFile(second, 'utf8'))];
for (let round = 0; ; round++) {
  await writePairAtomically(dir, pairs[round % 2]);
  if (round === 1) process.stdout.write('writing\n');
}
