import type { Store } from '../../store/database.js';
import type { SessionRunner } from '../../sessions/runner.js';
import type { SessionRecord } from '../../sessions/model.js';
import { badRequest } from '../../http/errors.js';
import { measureRepository } from './checks.js';
import { settingsOf } from './model.js';
import type { RepositoriesService } from './service.js';

/**
 * POST …/repositories/rescan (1.2): measures the named repositories now, in a
 * session that registers itself as using each of them while it runs: the
 * "running session on an extent" that keeps maintenance mode pending.
 */
export class RepositoryRescan {
  /** Scale-out ids expand to their extents (set by the scale-out section). */
  expand: (ids: string[]) => Promise<string[]> = async (ids) => ids;
  /** Re-imports the backups a repository holds into the catalogue (set by server.ts); returns a line for the log. */
  reimport: (repositoryId: string, signal: AbortSignal) => Promise<string | undefined> = async () => undefined;

  constructor(
    private readonly store: Store,
    private readonly runner: SessionRunner,
    private readonly repositories: RepositoriesService,
    private readonly timeoutMs: number,
  ) {}

  async start(ids: string[], createdBy?: string): Promise<SessionRecord> {
    const wanted = [...new Set(await this.expand(ids.map((i) => i.toLowerCase())))];
    const rows = await this.repositories.getMany(wanted);
    const missing = wanted.filter((id) => !rows.some((r) => r.id === id));
    if (missing.length > 0) throw badRequest(`Repository ${missing[0]} was not found${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}.`, missing[0]);
    const session = await this.runner.start({ name: 'Repository Rescan', type: 'ConfigurationResynchronize', createdBy }, async (ctx) => {
      try {
        let failed = 0;
        for (const [i, row] of rows.entries()) {
          ctx.signal.throwIfAborted();
          const access = await this.repositories.extentAccess(row.id);
          if (!access.read) {
            await ctx.log(`Skipped "${row.name}": ${access.reason}`, 'Warning');
            continue;
          }
          const record = await ctx.log(`Rescanning "${row.name}"`, 'None');
          const host = await this.repositories.hostOf(row);
          const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(this.timeoutMs)]);
          try {
            const figures = await measureRepository(row.type, settingsOf(row), host, this.repositories.checks, signal, { repository: row });
            await this.repositories.saveFigures(row.id, { figures }, new Date().toISOString());
            const imported = await this.reimport(row.id, signal);
            await ctx.updateLog(record, 'Succeeded', `Rescanned "${row.name}"`, imported ?? '');
          } catch (err) {
            failed++;
            const message = signal.aborted && !ctx.signal.aborted ? `No answer within ${Math.round(this.timeoutMs / 1000)} s.` : (err as Error).message;
            await this.repositories.saveFigures(row.id, { error: message }, new Date().toISOString());
            await ctx.updateLog(record, 'Failed', `Rescan of "${row.name}" failed`, message);
          }
          await ctx.progress(((i + 1) / rows.length) * 100);
        }
        return failed > 0 ? { result: 'Warning', message: `${failed} of ${rows.length} repositories could not be rescanned.` } : undefined;
      } finally {
        await this.store.db.deleteFrom('repository_usage').where('session_id', '=', ctx.sessionId).execute();
      }
    });
    // Registered before the work begins (it starts on the next tick), so a mode change sees it at once.
    if (rows.length > 0)
      await this.store.db
        .insertInto('repository_usage')
        .values(rows.map((r) => ({ session_id: session.id, repository_id: r.id })))
        .execute();
    return session;
  }

  /** Running sessions using each of the given repositories (usage rows of sessions not yet Stopped). */
  async activeSessions(repositoryIds: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (repositoryIds.length === 0) return counts;
    const rows = await this.store.db
      .selectFrom('repository_usage')
      .innerJoin('sessions', 'sessions.id', 'repository_usage.session_id')
      .select(['repository_usage.repository_id as id'])
      .where('repository_usage.repository_id', 'in', repositoryIds)
      .where('sessions.state', '!=', 'Stopped')
      .execute();
    for (const r of rows) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
    return counts;
  }
}
