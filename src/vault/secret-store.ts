import type { Executor } from '../store/transaction.js';
import { openSecret, sealSecret, type SecretContext } from './envelope.js';
import type { MasterKeyring } from './master-keyring.js';

/** The record a secret belongs to: the same three facts are bound into its seal. */
export interface SecretOwner {
  kind: string;
  type: string;
  id: string;
}

function contextOf(owner: SecretOwner, field: string): SecretContext {
  return { kind: owner.kind, type: owner.type, recordId: owner.id, field };
}

/**
 * Sealed secrets in the `vault_secrets` table, one row per record and field.
 * Sections write and read their secrets here, inside their own transactions;
 * nothing else in the database ever holds a secret.
 */
export class SecretStore {
  constructor(readonly keyring: MasterKeyring) {}

  /**
   * Seals and stores the given fields (one statement). A field whose value is
   * undefined is left alone; null or '' removes it.
   */
  async write(db: Executor, owner: SecretOwner, fields: Record<string, string | null | undefined>): Promise<void> {
    const now = new Date().toISOString();
    const rows = [];
    const removed: string[] = [];
    for (const [field, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      if (value === null || value === '') {
        removed.push(field);
        continue;
      }
      const sealed = sealSecret(this.keyring, value, contextOf(owner, field));
      rows.push({
        owner_kind: owner.kind,
        owner_id: owner.id,
        owner_type: owner.type,
        field,
        sealed_value: sealed,
        master_key_id: this.keyring.currentKeyId,
        updated_at: now,
      });
    }
    if (removed.length > 0) {
      await db.deleteFrom('vault_secrets').where('owner_kind', '=', owner.kind).where('owner_id', '=', owner.id).where('field', 'in', removed).execute();
    }
    if (rows.length === 0) return;
    await db
      .insertInto('vault_secrets')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['owner_kind', 'owner_id', 'field']).doUpdateSet((eb) => ({
          owner_type: eb.ref('excluded.owner_type'),
          sealed_value: eb.ref('excluded.sealed_value'),
          master_key_id: eb.ref('excluded.master_key_id'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }

  /**
   * Seals and stores the secrets of many new records in a few statements (bulk
   * imports: one statement per record would cost more than the record). Only for
   * records that have no secrets yet; empty values are skipped.
   */
  async writeNew(db: Executor, entries: { owner: SecretOwner; fields: Record<string, string | null | undefined> }[]): Promise<void> {
    const now = new Date().toISOString();
    const rows = entries.flatMap(({ owner, fields }) =>
      Object.entries(fields)
        .filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '')
        .map(([field, value]) => ({
          owner_kind: owner.kind,
          owner_id: owner.id,
          owner_type: owner.type,
          field,
          sealed_value: sealSecret(this.keyring, value, contextOf(owner, field)),
          master_key_id: this.keyring.currentKeyId,
          updated_at: now,
        })),
    );
    // 7 values a row: 500 rows stay under every dialect's bound-parameter limit.
    for (let i = 0; i < rows.length; i += 500)
      await db
        .insertInto('vault_secrets')
        .values(rows.slice(i, i + 500))
        .execute();
  }

  /** Opens one secret; undefined when the record has none in that field. Throws VaultError when it does not open. */
  async read(db: Executor, owner: SecretOwner, field: string): Promise<string | undefined> {
    const row = await db
      .selectFrom('vault_secrets')
      .select('sealed_value')
      .where('owner_kind', '=', owner.kind)
      .where('owner_id', '=', owner.id)
      .where('field', '=', field)
      .executeTakeFirst();
    return row ? openSecret(this.keyring, row.sealed_value, contextOf(owner, field)) : undefined;
  }

  /** Opens every secret of a record, by field. */
  async readAll(db: Executor, owner: SecretOwner): Promise<Record<string, string>> {
    const rows = await db.selectFrom('vault_secrets').select(['field', 'sealed_value']).where('owner_kind', '=', owner.kind).where('owner_id', '=', owner.id).execute();
    return Object.fromEntries(rows.map((r) => [r.field, openSecret(this.keyring, r.sealed_value, contextOf(owner, r.field))]));
  }

  /** Which fields hold a secret, without opening any. */
  async fields(db: Executor, owner: SecretOwner): Promise<string[]> {
    const rows = await db.selectFrom('vault_secrets').select('field').where('owner_kind', '=', owner.kind).where('owner_id', '=', owner.id).execute();
    return rows.map((r) => r.field);
  }

  async removeAll(db: Executor, owner: Pick<SecretOwner, 'kind' | 'id'>): Promise<void> {
    await db.deleteFrom('vault_secrets').where('owner_kind', '=', owner.kind).where('owner_id', '=', owner.id).execute();
  }
}
