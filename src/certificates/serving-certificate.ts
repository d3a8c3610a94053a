import type { Logger } from 'pino';
import { generateSelfSignedCertificate, defaultServerIdentity } from '../pki/generate.js';
import { describeCertificate, type CertificateDescription } from '../pki/describe.js';
import { readPair, writePairAtomically } from '../pki/pair-file.js';
import type { CertificateKeyPair } from '../pki/certificate-key-pair.js';
import type { TlsListener } from '../http/tls-listener.js';

export interface ServingState {
  pair: CertificateKeyPair;
  description: CertificateDescription;
}

/** Ten years: long enough that a fresh install does not surprise anyone, short enough for strict clients. */
const FIRST_CERTIFICATE_YEARS = 10;

/**
 * The certificate the listener serves: loaded from the data folder, created on first
 * start, and replaced (persist first, then hot-swap) by the certificate settings.
 */
export class ServingCertificate {
  private listener: TlsListener | undefined;

  private constructor(
    private readonly dataDir: string,
    private state: ServingState,
  ) {}

  static async loadOrCreate(dataDir: string, logger: Logger): Promise<ServingCertificate> {
    const existing = await readPair(dataDir);
    if (existing) return new ServingCertificate(dataDir, { pair: existing, description: describeCertificate(existing.certificatePem) });
    const identity = defaultServerIdentity();
    const validBy = new Date();
    validBy.setUTCFullYear(validBy.getUTCFullYear() + FIRST_CERTIFICATE_YEARS);
    const pair = await generateSelfSignedCertificate({ ...identity, keyAlgorithm: 'ECDSA-P256', validBy });
    await writePairAtomically(dataDir, pair);
    const description = describeCertificate(pair.certificatePem);
    logger.info({ thumbprint: description.thumbprint }, 'generated the server certificate');
    return new ServingCertificate(dataDir, { pair, description });
  }

  get current(): ServingState {
    return this.state;
  }

  attach(listener: TlsListener): void {
    this.listener = listener;
  }

  /** Persists the new pair atomically, then swaps it into the live listener. Returns the replaced state. */
  async replace(pair: CertificateKeyPair): Promise<ServingState> {
    const description = describeCertificate(pair.certificatePem);
    await writePairAtomically(this.dataDir, pair);
    const previous = this.state;
    this.state = { pair, description };
    this.listener?.swap(pair);
    return previous;
  }
}
