import type { Store } from '../store/database.js';
import { inTransaction } from '../store/transaction.js';
import { resealSecret } from './envelope.js';
import { VaultError } from './errors.js';
import type { MasterKeyring } from './master-keyring.js';
import { acquireRotationLock } from './rotation-lock.js';

export interface RotationOptions {
  /** Stops between batches; rows done so far stay re-sealed and everything still opens. */
  signal?: AbortSignal;
  /** Rows re-sealed per transaction: small, so requests keep flowing on SQLite's single writer. */
  batchSize?: number;
  /**
   * How long to wait after making the new key current before the last sweep, so
   * that servers sealing in other processes (they re-check the key file every
   * 500 ms) and requests in flight have switched to the new key.
   */
  settleMs?: number;
  /** Re-seal under the current key without making a new one (RAMPART_MASTER_KEY keyrings, or finishing a rotation). */
  keepCurrentKey?: boolean;
  onProgress?: (done: number, total: number) => Promise<void> | void;
  /** Called after each batch; tests use it to interrupt a rotation half-way. */
  afterBatch?: (done: number) => Promise<void> | void;
}

export interface RotationFailure {
  ownerKind: string;
  ownerId: string;
  field: string;
  reason: string;
}

export interface RotationReport {
  currentKeyId: string;
  previousKeyIds: string[];
  resealed: number;
  failed: RotationFailure[];
  retiredKeyIds: string[];
  /** Keys still named by some sealed value (failures), so kept in the keyring. */
  keptKeyIds: string[];
}

/** Sealed values per master key id: what a rotation has left to do, and what the status call shows. */
export async function sealedValuesByKey(store: Store): Promise<{ masterKeyId: string; count: number }[]> {
  const rows = await store.db
    .selectFrom('vault_secrets')
    .select(['master_key_id', (eb) => eb.fn.countAll().as('n')])
    .groupBy('master_key_id')
    .execute();
  return rows.map((r) => ({ masterKeyId: r.master_key_id, count: Number(r.n) }));
}

/**
 * Re-seals every secret under a new master key while the server keeps serving.
 *
 * 1. A new key becomes current in the keyring file; the old ones stay, so every
 *    secret opens whatever happens next.
 * 2. Rows still naming another key are re-sealed in small batches: only the data
 *    key is re-wrapped. An update only lands if the row still holds the value
 *    that was read, so a secret changed meanwhile (already under the new key) is
 *    never overwritten.
 * 3. After a settle pause, a last sweep catches values sealed by requests that
 *    were in flight during the switch.
 * 4. Keys no sealed value names any more are retired from the keyring.
 *
 * Interrupted anywhere, the keyring holds every key some row names: all secrets
 * open, and running the rotation again finishes the work.
 */
export async function rotateMasterKey(store: Store, keyring: MasterKeyring, dataDir: string, options: RotationOptions = {}): Promise<RotationReport> {
  const release = acquireRotationLock(dataDir);
  try {
    const before = keyring.ids();
    const current = options.keepCurrentKey || keyring.source === 'environment' ? keyring.current() : keyring.addNewCurrentKey();
    const failed: RotationFailure[] = [];
    const skip = new Set<string>();
    const total = (await sealedValuesByKey(store)).filter((k) => k.masterKeyId !== current.id).reduce((n, k) => n + k.count, 0);
    let resealed = 0;
    const sweep = async () => {
      for (;;) {
        options.signal?.throwIfAborted();
        const batchSize = options.batchSize ?? 100;
        const rows = (
          await store.db
            .selectFrom('vault_secrets')
            .selectAll()
            .where('master_key_id', '!=', current.id)
            .orderBy('owner_id')
            .orderBy('field')
            .limit(batchSize + skip.size)
            .execute()
        )
          .filter((r) => !skip.has(`${r.owner_kind}/${r.owner_id}/${r.field}`))
          .slice(0, batchSize);
        if (rows.length === 0) return;
        await inTransaction(store.db, async (trx) => {
          for (const row of rows) {
            let sealed: string;
            try {
              sealed = resealSecret(keyring, row.sealed_value, { kind: row.owner_kind, type: row.owner_type, recordId: row.owner_id, field: row.field });
            } catch (err) {
              if (!(err instanceof VaultError)) throw err;
              skip.add(`${row.owner_kind}/${row.owner_id}/${row.field}`);
              failed.push({ ownerKind: row.owner_kind, ownerId: row.owner_id, field: row.field, reason: err.message });
              continue;
            }
            const result = await trx
              .updateTable('vault_secrets')
              .set({ sealed_value: sealed, master_key_id: current.id })
              .where('owner_kind', '=', row.owner_kind)
              .where('owner_id', '=', row.owner_id)
              .where('field', '=', row.field)
              .where('sealed_value', '=', row.sealed_value)
              .executeTakeFirst();
            if (Number(result.numUpdatedRows) === 1) resealed++;
          }
        });
        await options.onProgress?.(Math.min(resealed, total), total);
        await options.afterBatch?.(resealed);
      }
    };
    await sweep();
    await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? 1000));
    await sweep();
    const inUse = new Set((await sealedValuesByKey(store)).map((k) => k.masterKeyId));
    const unused = keyring.ids().filter((id) => id !== current.id && !inUse.has(id));
    const retiredKeyIds = keyring.retire(unused);
    return {
      currentKeyId: current.id,
      previousKeyIds: before.filter((id) => id !== current.id),
      resealed,
      failed,
      retiredKeyIds,
      keptKeyIds: keyring.ids().filter((id) => id !== current.id),
    };
  } finally {
    release();
  }
}
