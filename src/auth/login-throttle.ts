import type { Transaction } from 'kysely';
import type { Store } from '../store/database.js';
import type { Database, LoginFailuresTable } from '../store/schema.js';

export interface ThrottleSettings {
  slowdownAfter: number;
  lockoutAfter: number;
  lockoutSeconds: number;
}

export interface ThrottleKeys {
  user: string;
  address: string;
}

/** What a sign-in attempt may do: be refused without a password check, or wait, then be checked. */
export type ThrottleVerdict =
  | { refused: true; retryAfter: Date; scope: 'user' | 'address' }
  | {
      refused: false;
      delayMs: number;
    };

/** Addresses may be shared (NAT, jump hosts), so they get a wider allowance than user names. */
const ADDRESS_ALLOWANCE = 3;
const MAX_DELAY_MS = 4_000;
/** An address whose next free slot is further away than this is refused instead of queued (a waiting request holds a connection). */
const MAX_ADDRESS_WAIT_MS = 30_000;

const delayFor = (over: number) => (over < 0 ? 0 : Math.min(MAX_DELAY_MS, 250 * 2 ** Math.min(over, 16)));

/**
 * Slows down and locks out repeated failed sign-ins. Every attempt is counted
 * *before* its password is checked, in one transaction over both rows (a row lock on
 * PostgreSQL, so several nodes sharing the database count together): of any number
 * of parallel guesses, at most `lockoutAfter` are ever checked against the password.
 *
 * - Per user name: after `slowdownAfter` failures each attempt waits (250 ms doubling,
 *   at most 4 s); the `lockoutAfter`-th attempt locks the name for `lockoutSeconds`
 *   unless it succeeds. Locked attempts are refused without a password check.
 * - Per address: never a lockout (one noisy client must not lock the administrator
 *   out of a shared address), but after `slowdownAfter × 3` failures attempts are
 *   spaced out, one slot after the other, so parallel guesses queue instead of
 *   running together; an attempt whose slot is more than 30 s away is refused.
 *   For `addr:` rows, `locked_until` holds the start of the next free slot.
 *
 * The user-name key exists whether or not the user does, so the answers reveal
 * nothing about which names are real. A success clears the user name's count and
 * takes its own reservation back from the address.
 */
export class LoginThrottle {
  constructor(
    private readonly store: Store,
    private readonly settings: ThrottleSettings,
  ) {}

  static keys(userName: string, address: string): ThrottleKeys {
    return { user: `user:${userName.toLowerCase()}`, address: `addr:${address}` };
  }

  /** Counts this attempt as a failure until `recordSuccess` says otherwise, and says what it may do. */
  async reserve(keys: ThrottleKeys, now = new Date()): Promise<ThrottleVerdict> {
    return this.store.db.transaction().execute(async (trx) => {
      const user = await this.lockRow(trx, keys.user, now);
      const address = await this.lockRow(trx, keys.address, now);
      const nowMs = now.getTime();

      const userLockedUntil = user.locked_until ? Date.parse(user.locked_until) : 0;
      if (userLockedUntil > nowMs) return { refused: true, retryAfter: new Date(userLockedUntil), scope: 'user' };

      // A lock that ran out starts the count afresh, as a stale count does.
      const userFailures = (this.isStale(user, nowMs) || userLockedUntil > 0 ? 0 : user.failures) + 1;
      const addressFailures = (this.isStale(address, nowMs) ? 0 : address.failures) + 1;

      const addressSpacing = delayFor(addressFailures - 1 - this.settings.slowdownAfter * ADDRESS_ALLOWANCE);
      const freeSlot = Math.max(nowMs, address.locked_until && !this.isStale(address, nowMs) ? Date.parse(address.locked_until) : 0);
      const slot = addressSpacing > 0 ? freeSlot + addressSpacing : nowMs;
      if (slot - nowMs > MAX_ADDRESS_WAIT_MS) return { refused: true, retryAfter: new Date(slot - MAX_ADDRESS_WAIT_MS), scope: 'address' };

      const lockedUntil = userFailures >= this.settings.lockoutAfter ? new Date(nowMs + this.settings.lockoutSeconds * 1000).toISOString() : null;
      await trx.updateTable('login_failures').set({ failures: userFailures, last_failure_at: now.toISOString(), locked_until: lockedUntil }).where('key', '=', keys.user).execute();
      await trx
        .updateTable('login_failures')
        .set({ failures: addressFailures, last_failure_at: now.toISOString(), locked_until: new Date(Math.max(slot, freeSlot)).toISOString() })
        .where('key', '=', keys.address)
        .execute();
      const userDelay = delayFor(userFailures - 1 - this.settings.slowdownAfter);
      return { refused: false, delayMs: Math.max(userDelay, slot - nowMs) };
    });
  }

  /** A good sign-in clears the user name's record and gives back its reservation on the address. */
  async recordSuccess(keys: ThrottleKeys): Promise<void> {
    await this.store.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('login_failures').where('key', '=', keys.user).execute();
      await trx
        .updateTable('login_failures')
        .set((eb) => ({ failures: eb('failures', '-', 1) }))
        .where('key', '=', keys.address)
        .where('failures', '>', 0)
        .execute();
    });
  }

  /** The row for `key`, created if missing, locked for the rest of the transaction (PostgreSQL; SQLite has one writer). */
  private async lockRow(trx: Transaction<Database>, key: string, now: Date): Promise<LoginFailuresTable> {
    await trx
      .insertInto('login_failures')
      .values({ key, failures: 0, last_failure_at: now.toISOString(), locked_until: null })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const row = await trx
      .selectFrom('login_failures')
      .selectAll()
      .where('key', '=', key)
      .$if(this.store.kind === 'postgres', (q) => q.forUpdate())
      .executeTakeFirstOrThrow();
    return row;
  }

  /** Failures older than one lockout period no longer count. */
  private isStale(row: LoginFailuresTable, nowMs: number): boolean {
    return nowMs - Date.parse(row.last_failure_at) > this.settings.lockoutSeconds * 1000;
  }
}
