import type { Store } from '../store/database.js';
import type { Principal } from './principal.js';

/**
 * What is revoked, held in memory so that checking a token costs no query.
 * Revocations made here take effect at once; those made by other nodes or by the
 * admin command line arrive with the next poll (default every 500 ms).
 */
export class RevocationList {
  private readonly families = new Map<string, number>();
  private readonly userValidAfter = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private lastPoll = 0;

  constructor(private readonly store: Store) {}

  isRevoked(principal: Principal): boolean {
    if (this.families.has(principal.familyId)) return true;
    const after = this.userValidAfter.get(principal.userId);
    return after !== undefined && principal.issuedAtSeconds * 1000 < after;
  }

  markFamilyRevoked(familyId: string, expiresAtMs: number): void {
    this.families.set(familyId, expiresAtMs);
  }

  async start(pollMs: number): Promise<void> {
    await this.poll(true);
    this.timer = setInterval(() => {
      this.poll(false).catch(() => undefined); // a missed poll is retried by the next one
    }, pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async poll(full: boolean): Promise<void> {
    const started = Date.now();
    // Five seconds of overlap absorbs clock skew between nodes and slow commits.
    const since = new Date(full ? 0 : this.lastPoll - 5_000).toISOString();
    const nowIso = new Date(started).toISOString();
    const families = await this.store.db
      .selectFrom('token_families')
      .select(['id', 'expires_at'])
      .where('revoked_at', 'is not', null)
      .where('revoked_at', '>=', since)
      .where('expires_at', '>', nowIso)
      .execute();
    for (const f of families) this.families.set(f.id, Date.parse(f.expires_at));
    const users = await this.store.db.selectFrom('users').select(['id', 'tokens_valid_after']).where('tokens_valid_after', '>=', since).execute();
    for (const u of users) this.userValidAfter.set(u.id, Date.parse(u.tokens_valid_after));
    for (const [id, expires] of this.families) if (expires < started) this.families.delete(id);
    this.lastPoll = started;
  }
}
