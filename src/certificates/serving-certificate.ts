import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';
import { generateSelfSignedCertificate, defaultServerIdentity } from '../pki/generate.js';
import { describeCertificate, type CertificateDescription } from '../pki/describe.js';
import { pairFileName, readPair, writePairAtomically } from '../pki/pair-file.js';
import { checkServingPair } from '../pki/validate.js';
import type { CertificateKeyPair } from '../pki/certificate-key-pair.js';
import type { TlsListener } from '../http/tls-listener.js';
import { readServingMeta, writeServingMeta, type ReplacedCertificate, type ServingMeta } from './serving-meta.js';

export interface ServingState {
  pair: CertificateKeyPair;
  description: CertificateDescription;
  automaticallyGenerated: boolean;
  installedAt: Date;
}

/** Ten years: long enough that a fresh install does not surprise anyone. */
const FIRST_CERTIFICATE_YEARS = 10;
/** At most this many replaced certificates are remembered. */
const HISTORY_LIMIT = 10;

/**
 * The certificate the listener serves: loaded from the data folder, created on first
 * start, replaced by the certificate settings (persist first, then hot-swap). The pair
 * file is also watched, so a change written by the admin command line while the
 * server runs is served at once too.
 */
export class ServingCertificate {
  private listener: TlsListener | undefined;
  private watcher: FSWatcher | undefined;
  private replaced: ReplacedCertificate[];

  private constructor(
    private readonly dataDir: string,
    private readonly logger: Logger,
    private state: ServingState,
    meta: ServingMeta | undefined,
  ) {
    this.replaced = meta?.replaced ?? [];
  }

  static async loadOrCreate(dataDir: string, logger: Logger): Promise<ServingCertificate> {
    const existing = await readPair(dataDir);
    if (existing) {
      const description = describeCertificate(existing.certificatePem);
      const meta = await readServingMeta(dataDir);
      const known = meta?.thumbprint === description.thumbprint ? meta : undefined;
      const state: ServingState = {
        pair: existing,
        description,
        automaticallyGenerated: known?.automaticallyGenerated ?? description.selfSigned,
        installedAt: known ? new Date(known.installedAt) : new Date(),
      };
      return new ServingCertificate(dataDir, logger, state, meta);
    }
    const validBy = new Date();
    validBy.setUTCFullYear(validBy.getUTCFullYear() + FIRST_CERTIFICATE_YEARS);
    const pair = await generateSelfSignedCertificate({ ...defaultServerIdentity(), keyAlgorithm: 'ECDSA-P256', validBy });
    const serving = new ServingCertificate(
      dataDir,
      logger,
      { pair, description: describeCertificate(pair.certificatePem), automaticallyGenerated: true, installedAt: new Date() },
      undefined,
    );
    await writePairAtomically(dataDir, pair);
    await serving.saveMeta();
    logger.info({ thumbprint: serving.state.description.thumbprint }, 'generated the server certificate');
    return serving;
  }

  get current(): ServingState {
    return this.state;
  }

  /** Certificates replaced within the last `graceMs`, newest first. */
  recentlyReplaced(graceMs: number, now = Date.now()): ReplacedCertificate[] {
    return this.replaced.filter((r) => now - Date.parse(r.replacedAt) <= graceMs);
  }

  attach(listener: TlsListener): void {
    this.listener = listener;
  }

  /**
   * Persists the new pair atomically, then swaps it into the live listener; from
   * this moment every new handshake gets it. Returns the state it replaced.
   */
  async replace(pair: CertificateKeyPair, automaticallyGenerated: boolean): Promise<ServingState> {
    checkServingPair(pair);
    const previous = this.state;
    const next: ServingState = { pair, description: describeCertificate(pair.certificatePem), automaticallyGenerated, installedAt: new Date() };
    await writePairAtomically(this.dataDir, pair);
    this.install(next, previous);
    await this.saveMeta();
    return previous;
  }

  /** Serves what the pair file holds when another process (the admin command line) changed it. */
  watchPairFile(): void {
    let timer: NodeJS.Timeout | undefined;
    this.watcher = watch(this.dataDir, (_event, file) => {
      if (file !== pairFileName) return;
      clearTimeout(timer);
      timer = setTimeout(() => void this.reloadFromDisk(), 50);
    });
    this.watcher.on('error', () => undefined);
  }

  close(): void {
    this.watcher?.close();
  }

  private async reloadFromDisk(): Promise<void> {
    try {
      const pair = await readPair(this.dataDir);
      if (!pair) return;
      const description = describeCertificate(pair.certificatePem);
      if (description.thumbprint === this.state.description.thumbprint) return;
      checkServingPair(pair);
      const meta = await readServingMeta(this.dataDir);
      const automaticallyGenerated = meta?.thumbprint === description.thumbprint ? meta.automaticallyGenerated : description.selfSigned;
      this.install({ pair, description, automaticallyGenerated, installedAt: new Date() }, this.state);
      this.logger.info({ thumbprint: description.thumbprint }, 'serving the certificate written to the data folder by another process');
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'the certificate file changed but cannot be served; keeping the current certificate');
    }
  }

  private install(next: ServingState, previous: ServingState): void {
    this.state = next;
    this.listener?.swap(next.pair);
    this.replaced = [
      {
        thumbprint: previous.description.thumbprint,
        sha256Fingerprint: previous.description.sha256Fingerprint,
        subject: previous.description.subject,
        validBy: previous.description.validBy.toISOString(),
        replacedAt: new Date().toISOString(),
      },
      ...this.replaced.filter((r) => r.thumbprint !== next.description.thumbprint),
    ].slice(0, HISTORY_LIMIT);
  }

  private saveMeta(): Promise<void> {
    return writeServingMeta(this.dataDir, {
      thumbprint: this.state.description.thumbprint,
      automaticallyGenerated: this.state.automaticallyGenerated,
      installedAt: this.state.installedAt.toISOString(),
      replaced: this.replaced,
    });
  }
}
