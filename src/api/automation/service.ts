import type { SessionRunner } from '../../sessions/runner.js';
import type { SessionRecord } from '../../sessions/model.js';
import { PassphraseKey, SealError } from '../../automation/passphrase-seal.js';
import { badRequest } from '../../http/errors.js';
import { openCollection, sealCollection } from './seal.js';
import { runImport, type ImportPart } from './import-run.js';
import type { AutomationSection } from './section.js';
import type { ConflictMode } from './schemas.js';

export interface ImportRequest {
  onConflict?: ConflictMode;
  dryRun?: boolean;
  /** Opens a sealed collection; never logged. */
  passphrase?: string;
  createdBy?: string;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Export and import of the configuration, section by section. The sections do
 * the mapping; this runs the seal, the documented order and the session.
 */
export class AutomationService {
  private readonly sections = new Map<string, AutomationSection>();

  constructor(
    private readonly runner: SessionRunner,
    sections: AutomationSection[] = [],
  ) {
    for (const s of sections) this.register(s);
  }

  /** Sections built later (managed servers, repositories, proxies) join here. */
  register(section: AutomationSection): void {
    this.sections.set(section.kind.toLowerCase(), section);
  }

  /** In the documented import order. */
  get all(): AutomationSection[] {
    return [...this.sections.values()].sort((a, b) => a.order - b.order);
  }

  section(kind: string): AutomationSection {
    const s = this.sections.get(kind.toLowerCase());
    if (!s) throw badRequest(`Unknown kind "${kind}"; known: ${this.all.map((x) => x.kind).join(', ')}.`);
    return s;
  }

  /** Veeam's export (every secret empty), or with a passphrase a sealed one. */
  async export(kind: string, filter: Record<string, unknown>, passphrase?: string, key?: PassphraseKey): Promise<Record<string, unknown>> {
    const section = this.section(kind);
    const sealing = passphrase !== undefined || key !== undefined;
    if (sealing) key ??= await derive(passphrase!);
    const collection = await section.export(filter, sealing);
    if (key) sealCollection(section, collection, key);
    return collection;
  }

  /** One key for several exports (the command line's file): the KDF runs once. */
  deriveKey(passphrase: string): Promise<PassphraseKey> {
    return derive(passphrase);
  }

  /**
   * Checks and opens everything first (a wrong passphrase or a damaged secret is a
   * 400 with nothing touched), then imports in a session and answers at once.
   */
  async startImport(parts: { kind: string; collection: Record<string, unknown> }[], request: ImportRequest = {}): Promise<SessionRecord> {
    const keys = new Map<string, PassphraseKey>();
    const prepared: ImportPart[] = [];
    for (const { kind, collection } of parts) {
      const section = this.section(kind);
      await openCollection(section, collection, request.passphrase, keys);
      prepared.push({ section, items: section.items(collection) });
    }
    const kinds = prepared.map((p) => p.section.kind).join(', ');
    return this.runner.start({ name: `${request.dryRun ? 'Dry Run of ' : ''}Import of ${kinds}`, type: 'Automation', createdBy: request.createdBy ?? null }, (ctx) =>
      runImport(ctx, prepared, { onConflict: request.onConflict ?? 'skip', dryRun: request.dryRun ?? false, onProgress: request.onProgress }),
    );
  }
}

async function derive(passphrase: string): Promise<PassphraseKey> {
  try {
    return await PassphraseKey.derive(passphrase);
  } catch (err) {
    if (err instanceof SealError) throw badRequest(err.message);
    throw err;
  }
}
