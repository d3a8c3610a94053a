/**
 * Reading and writing PEM text (RFC 7468): the `-----BEGIN X-----` blocks
 * that carry certificates and keys. Kept apart from key and certificate
 * logic so PFX import, PEM import and the pair file all split and join PEM
 * the same way.
 */

export interface PemBlock {
  /** The label between BEGIN and END, e.g. `CERTIFICATE`, `EC PRIVATE KEY`. */
  label: string;
  /** The decoded body. */
  der: Buffer;
  /** The block exactly as found, headers included (legacy encrypted keys need their DEK-Info header). */
  text: string;
}

const blockPattern = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
const base64Body = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Every well-formed PEM block in `text`, in order. Text between blocks
 * (openssl's `Bag Attributes`, comments) is ignored. A block whose body is
 * not base64 is skipped rather than guessed at.
 */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(blockPattern)) {
    const label = match[1];
    // RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`) precede
    // the base64 and are separated from it by a blank line.
    const lines = match[2].split(/\r?\n/).filter((line) => !line.includes(':'));
    const body = lines.join('').replace(/\s+/g, '');
    if (body.length === 0 || !base64Body.test(body)) continue;
    blocks.push({ label, der: Buffer.from(body, 'base64'), text: `${match[0]}\n` });
  }
  return blocks;
}

/** DER to PEM, 64 characters a line, ending in a newline. */
export function derToPem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export function certificatesToPem(ders: readonly Uint8Array[]): string {
  return ders.map((der) => derToPem('CERTIFICATE', der)).join('');
}

/** The certificate blocks of a PEM text (leaf first when the text is a chain). */
export function certificateDers(text: string): Buffer[] {
  return pemBlocks(text)
    .filter((block) => block.label === 'CERTIFICATE')
    .map((block) => block.der);
}

/** Labels of the private-key blocks Rampart reads (PKCS#8, encrypted PKCS#8, PKCS#1 RSA, SEC1 EC). */
export const privateKeyLabels: ReadonlySet<string> = new Set(['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY']);
