import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';

interface Pending {
  work: (trx: Transaction<Database>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit: small write transactions that arrive together (16 clients adding
 * credentials at once) share one database transaction, and so one commit, which was
 * the largest cost of a small write. Each work still stands alone: it runs inside
 * its own savepoint, so one that fails is rolled back to its savepoint and rejected
 * with its own error while the others land. Nobody is answered before the shared
 * commit has happened, and if the commit itself fails every work in it is rejected,
 * so a caller never sees success for something that is not stored.
 *
 * Works must only touch the database (no network calls): they hold the batch.
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxBatch = 100,
  ) {}

  run<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      // Wait for the rest of this turn of the event loop: requests read together are committed together.
      if (!this.flushing && this.queue.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        await this.commit(batch);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Pending];
      await this.db.transaction().execute(only.work).then(only.resolve, only.reject);
      return;
    }
    let outcomes: Outcome[];
    try {
      outcomes = await this.db.transaction().execute(async (trx) => {
        const done: Outcome[] = [];
        for (const pending of batch) {
          await sql`savepoint group_commit`.execute(trx);
          try {
            const value = await pending.work(trx);
            await sql`release group_commit`.execute(trx);
            done.push({ ok: true, value });
          } catch (error) {
            await sql`rollback to group_commit`.execute(trx);
            await sql`release group_commit`.execute(trx);
            done.push({ ok: false, error });
          }
        }
        return done;
      });
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.error);
    });
  }
}

const groups = new WeakMap<Kysely<Database>, GroupCommit>();

/** Runs `work` as its own all-or-nothing unit, committed together with others arriving at the same moment. */
export function inGroupedTransaction<T>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  let group = groups.get(db);
  if (!group) groups.set(db, (group = new GroupCommit(db)));
  return group.run(work);
}
