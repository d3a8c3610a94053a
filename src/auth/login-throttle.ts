import type { Store } from '../store/database.js';

export interface ThrottleSettings {
  slowdownAfter: number;
  lockoutAfter: number;
  lockoutSeconds: number;
}

export interface ThrottleVerdict {
  lockedUntil?: Date;
  delayMs: number;
}

/** Addresses may be shared (NAT, jump hosts), so they get a wider allowance than user names. */
const ADDRESS_ALLOWANCE = 3;
const MAX_DELAY_MS = 4_000;

/**
 * Slows down, then locks out, repeated failed logins per user name and per client
 * address. The user-name key exists whether or not the user does, so the answers
 * reveal nothing about which names are real.
 */
export class LoginThrottle {
  constructor(
    private readonly store: Store,
    private readonly settings: ThrottleSettings,
  ) {}

  static keys(userName: string, address: string): { user: string; address: string } {
    return { user: `user:${userName.toLowerCase()}`, address: `addr:${address}` };
  }

  async verdict(keys: { user: string; address: string }, now = new Date()): Promise<ThrottleVerdict> {
    const rows = await this.store.db.selectFrom('login_failures').selectAll().where('key', 'in', [keys.user, keys.address]).execute();
    let delayMs = 0;
    let lockedUntil: Date | undefined;
    for (const row of rows) {
      if (row.locked_until && Date.parse(row.locked_until) > now.getTime()) {
        const until = new Date(row.locked_until);
        if (!lockedUntil || until > lockedUntil) lockedUntil = until;
      }
      if (this.isStale(row.last_failure_at, now)) continue;
      const allowance = row.key === keys.address ? this.settings.slowdownAfter * ADDRESS_ALLOWANCE : this.settings.slowdownAfter;
      const over = row.failures - allowance;
      if (over >= 0) delayMs = Math.max(delayMs, Math.min(MAX_DELAY_MS, 250 * 2 ** over));
    }
    return { lockedUntil, delayMs };
  }

  async recordFailure(keys: { user: string; address: string }, now = new Date()): Promise<void> {
    for (const key of [keys.user, keys.address]) {
      const limit = key === keys.address ? this.settings.lockoutAfter * ADDRESS_ALLOWANCE : this.settings.lockoutAfter;
      await this.store.db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('login_failures').selectAll().where('key', '=', key).executeTakeFirst();
        const failures = !row || this.isStale(row.last_failure_at, now) ? 1 : row.failures + 1;
        const lockedUntil = failures >= limit ? new Date(now.getTime() + this.settings.lockoutSeconds * 1000).toISOString() : null;
        const values = { failures, last_failure_at: now.toISOString(), locked_until: lockedUntil ?? row?.locked_until ?? null };
        if (row) await trx.updateTable('login_failures').set(values).where('key', '=', key).execute();
        else
          await trx
            .insertInto('login_failures')
            .values({ key, ...values })
            .execute();
      });
    }
  }

  /** A good login clears the user name's record; the address's record decays on its own. */
  async recordSuccess(keys: { user: string }): Promise<void> {
    await this.store.db.deleteFrom('login_failures').where('key', '=', keys.user).execute();
  }

  /** Failures older than one lockout period no longer count. */
  private isStale(lastFailureAt: string, now: Date): boolean {
    return now.getTime() - Date.parse(lastFailureAt) > this.settings.lockoutSeconds * 1000;
  }
}
