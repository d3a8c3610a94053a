import type { Store } from '../../store/database.js';
import type { MasterKeyring } from '../../vault/master-keyring.js';
import { rotateMasterKey, sealedValuesByKey, type RotationReport } from '../../vault/rotation.js';
import type { SessionRunner } from '../../sessions/runner.js';
import type { SessionRecord } from '../../sessions/model.js';
import { badRequest } from '../../http/errors.js';

export const ROTATION_SESSION_NAME = 'Master Key Rotation';

/** The vault's own calls: what it holds, and the master key rotation run as a session. */
export class VaultService {
  private running = false;

  constructor(
    private readonly store: Store,
    private readonly keyring: MasterKeyring,
    private readonly runner: SessionRunner,
    private readonly dataDir: string,
  ) {}

  async status() {
    return {
      currentMasterKeyId: this.keyring.currentKeyId,
      masterKeySource: this.keyring.source,
      masterKeyIds: this.keyring.ids(),
      sealedValues: await sealedValuesByKey(this.store),
      rotationRunning: this.running,
    };
  }

  /** Starts the rotation and returns its fresh session at once (201 + SessionModel). */
  async startRotation(requestedBy: string): Promise<SessionRecord> {
    if (this.running) throw badRequest('A master key rotation is already running; follow its session.');
    this.running = true;
    try {
      return await this.runner.start({ name: ROTATION_SESSION_NAME, type: 'BackgroundOperation', createdBy: requestedBy, resourceReference: '/api/v1/vault' }, async (ctx) => {
        try {
          const from = this.keyring.currentKeyId;
          await ctx.log(`Re-sealing secrets; master key ${from} was current`);
          const report = await rotateMasterKey(this.store, this.keyring, this.dataDir, {
            signal: ctx.signal,
            onProgress: (done, total) => ctx.progress(total === 0 ? 99 : Math.min(99, (done * 100) / total)),
          });
          return await this.logReport(ctx, report);
        } finally {
          this.running = false;
        }
      });
    } catch (err) {
      this.running = false;
      throw err;
    }
  }

  private async logReport(ctx: { log: (title: string, status?: 'Succeeded' | 'Warning' | 'Failed', description?: string) => Promise<number> }, report: RotationReport) {
    await ctx.log(`Master key ${report.currentKeyId} is current`);
    await ctx.log(`Re-sealed ${report.resealed} secret(s) under master key ${report.currentKeyId}`);
    if (report.failed.length > 0) {
      const listed = report.failed
        .slice(0, 20)
        .map((f) => `${f.ownerKind} ${f.ownerId} ${f.field}: ${f.reason}`)
        .join('\n');
      await ctx.log(`${report.failed.length} secret(s) did not open and were left as they were`, 'Warning', listed);
    }
    if (report.retiredKeyIds.length > 0) await ctx.log(`Retired master key(s) ${report.retiredKeyIds.join(', ')}`);
    if (report.keptKeyIds.length > 0) {
      const hint = this.keyring.source === 'environment' ? ' (remove them from RAMPART_MASTER_KEY once no sealed value names them)' : '';
      await ctx.log(`Master key(s) still held: ${report.keptKeyIds.join(', ')}${hint}`, 'Warning');
    }
    const warn = report.failed.length > 0 || report.keptKeyIds.length > 0;
    return warn
      ? {
          result: 'Warning' as const,
          message: `Re-sealed ${report.resealed} secret(s); ${report.failed.length} did not open; previous key(s) kept: ${report.keptKeyIds.join(', ') || 'none'}.`,
        }
      : { result: 'Success' as const, message: `Re-sealed ${report.resealed} secret(s) under master key ${report.currentKeyId}.` };
  }
}
