import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../../store/database.js';
import type { EncryptionPasswordsTable } from '../../store/schema.js';
import { fetchPage, type PageRequest } from '../../store/paged-query.js';
import { inTransaction } from '../../store/transaction.js';
import { inGroupedTransaction } from '../../store/group-commit.js';
import { describeUsers, type ReferenceRegistry } from '../../store/references.js';
import { isUniqueViolation } from '../../store/unique-violation.js';
import type { SecretOwner, SecretStore } from '../../vault/secret-store.js';
import { hashPassword, verifyPassword } from '../../auth/passwords.js';
import { badRequest, notFound } from '../../http/errors.js';
import { formatInstant, toStoredInstant } from '../../http/dates.js';
import { renamedField } from '../../http/renamed-fields.js';

export const ENCRYPTION_PASSWORD_KIND = 'encryptionPasswords';

export type EncryptionPasswordRow = Selectable<EncryptionPasswordsTable>;
type Body = Record<string, unknown>;

/** Duplicate rule: a non-empty uniqueId (tag) identifies one password; without one, the hint does (case-insensitive). */
function dedupKey(hint: string, uniqueId: string): string {
  return uniqueId !== '' ? `tag:${uniqueId.toLowerCase()}` : `hint:${hint.toLowerCase()}`;
}

function ownerOf(id: string): SecretOwner {
  return { kind: ENCRYPTION_PASSWORD_KIND, type: 'EncryptionPassword', id };
}

export function encryptionPasswordModel(row: EncryptionPasswordRow) {
  return { id: row.id, hint: row.hint, modificationTime: formatInstant(row.modification_time)!, tag: row.unique_id, uniqueId: row.unique_id };
}

/**
 * Encryption passwords: each is kept twice, never in clear. The argon2id
 * verifier checks a password someone types (restore, import) without opening
 * anything; the sealed copy is what a backup job will encrypt with.
 */
export class EncryptionPasswordsService {
  constructor(
    private readonly store: Store,
    private readonly secrets: SecretStore,
    private readonly references: ReferenceRegistry,
  ) {}

  /** `hint`: the 1.3 hintFilter, a pattern with the nameFilter rules (`*` wildcard, any case). */
  list(page: PageRequest, hint?: string) {
    return fetchPage<EncryptionPasswordRow>(this.store.db.selectFrom('encryption_passwords'), { ...page, nameFilter: hint }, { nameColumn: 'hint' });
  }

  async get(id: string): Promise<EncryptionPasswordRow> {
    const row = await this.store.db.selectFrom('encryption_passwords').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`Encryption password ${id} was not found.`, id);
    return row;
  }

  /**
   * `secretMayBeMissing` is for imports (Veeam exports passwords empty): the record
   * is created with no verifier and no sealed value until its password is set.
   */
  async add(spec: Body, options: { secretMayBeMissing?: boolean } = {}): Promise<EncryptionPasswordRow> {
    const password = typeof spec.password === 'string' ? spec.password : '';
    if (password === '' && !options.secretMayBeMissing) throw badRequest('The request body is missing the required field "password".');
    const hint = spec.hint as string;
    const uniqueId = renamedField<string>(spec, 'tag', 'uniqueId') ?? '';
    const row: EncryptionPasswordRow = {
      id: randomUUID(),
      hint,
      hint_key: hint.toLowerCase(),
      unique_id: uniqueId,
      dedup_key: dedupKey(hint, uniqueId),
      verifier: '',
      modification_time: toStoredInstant(),
    };
    await this.refuseDuplicate(row);
    row.verifier = password === '' ? '' : await hashPassword(password);
    // Grouped: adds arriving together share one commit (store/group-commit.ts).
    await this.guardUnique(row, () =>
      inGroupedTransaction(this.store.db, async (trx) => {
        await trx.insertInto('encryption_passwords').values(row).execute();
        if (password !== '') await this.secrets.write(trx, ownerOf(row.id), { password });
      }),
    );
    return row;
  }

  /** An import's overwrite: hint and tag from the spec; the password only when it carries one. */
  async overwrite(id: string, spec: Body): Promise<EncryptionPasswordRow> {
    const existing = await this.get(id);
    const hint = spec.hint as string;
    const uniqueId = renamedField<string>(spec, 'tag', 'uniqueId') ?? '';
    const password = typeof spec.password === 'string' ? spec.password : '';
    const row = { ...existing, hint, hint_key: hint.toLowerCase(), unique_id: uniqueId, dedup_key: dedupKey(hint, uniqueId), modification_time: toStoredInstant() };
    await this.refuseDuplicate(row);
    if (password !== '') row.verifier = await hashPassword(password);
    const { id: _id, ...changes } = row;
    await this.guardUnique(row, () =>
      inTransaction(this.store.db, async (trx) => {
        await trx.updateTable('encryption_passwords').set(changes).where('id', '=', id).execute();
        if (password !== '') await this.secrets.write(trx, ownerOf(id), { password });
      }),
    );
    return row;
  }

  /** PUT changes the hint and the tag only. */
  async edit(id: string, model: Body): Promise<EncryptionPasswordRow> {
    const existing = await this.get(id);
    if (model.id !== undefined && model.id !== id) throw badRequest(`The body's id ${String(model.id)} is not the id in the path (${id}).`, id);
    const hint = model.hint as string;
    const uniqueId = renamedField<string>(model, 'tag', 'uniqueId', existing.unique_id) ?? existing.unique_id;
    const row = { ...existing, hint, hint_key: hint.toLowerCase(), unique_id: uniqueId, dedup_key: dedupKey(hint, uniqueId), modification_time: toStoredInstant() };
    await this.refuseDuplicate(row);
    const { id: _id, verifier: _v, ...changes } = row;
    await this.guardUnique(row, () => this.store.db.updateTable('encryption_passwords').set(changes).where('id', '=', id).execute());
    return row;
  }

  /** 1.2's changepassword: a new password and its hint. */
  async changePassword(id: string, password: string, hint: string): Promise<void> {
    const existing = await this.get(id);
    const row = { ...existing, hint, hint_key: hint.toLowerCase(), dedup_key: dedupKey(hint, existing.unique_id), modification_time: toStoredInstant() };
    await this.refuseDuplicate(row);
    const verifier = await hashPassword(password);
    await this.guardUnique(row, () =>
      inTransaction(this.store.db, async (trx) => {
        await trx
          .updateTable('encryption_passwords')
          .set({ hint: row.hint, hint_key: row.hint_key, dedup_key: row.dedup_key, modification_time: row.modification_time, verifier })
          .where('id', '=', id)
          .execute();
        await this.secrets.write(trx, ownerOf(id), { password });
      }),
    );
  }

  async remove(id: string): Promise<void> {
    await inTransaction(this.store.db, async (trx) => {
      const row = await trx.selectFrom('encryption_passwords').select(['id', 'hint']).where('id', '=', id).executeTakeFirst();
      if (!row) throw notFound(`Encryption password ${id} was not found.`, id);
      const users = await this.references.usersOf(trx, ENCRYPTION_PASSWORD_KIND, id);
      if (users.length > 0) throw badRequest(`Encryption password "${row.hint}" (${id}) cannot be removed: it is used by ${describeUsers(users)}.`, id);
      await this.secrets.removeAll(trx, ownerOf(id));
      await trx.deleteFrom('encryption_passwords').where('id', '=', id).execute();
    });
  }

  /** Checks a typed password against the verifier (no secret is opened). */
  async verify(id: string, candidate: string): Promise<boolean> {
    return verifyPassword((await this.get(id)).verifier, candidate);
  }

  /** Opens the sealed password for a job that encrypts with it. Never for a reply. */
  /** Every password the vault holds, opened (for reading backups whose password is not named: rescans, restores). */
  async allPasswords(): Promise<string[]> {
    const ids = await this.store.db.selectFrom('encryption_passwords').select('id').orderBy('id').execute();
    const opened = await Promise.all(ids.map((r) => this.passwordFor(r.id).catch(() => undefined)));
    return opened.filter((p): p is string => p !== undefined);
  }

  async passwordFor(id: string): Promise<string> {
    await this.get(id);
    const password = await this.secrets.read(this.store.db, ownerOf(id), 'password');
    if (password === undefined) throw new Error(`Encryption password ${id} has no sealed value.`);
    return password;
  }

  private async refuseDuplicate(row: EncryptionPasswordRow): Promise<void> {
    const other = await this.store.db.selectFrom('encryption_passwords').select('id').where('dedup_key', '=', row.dedup_key).where('id', '!=', row.id).executeTakeFirst();
    if (other) throw duplicate(row, other.id);
  }

  private async guardUnique<T>(row: EncryptionPasswordRow, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const other = await this.store.db.selectFrom('encryption_passwords').select('id').where('dedup_key', '=', row.dedup_key).executeTakeFirst();
      throw duplicate(row, other?.id);
    }
  }
}

function duplicate(row: EncryptionPasswordRow, otherId: string | undefined) {
  const what = row.unique_id !== '' ? `the uniqueId (tag) "${row.unique_id}"` : `the hint "${row.hint}" and no uniqueId (tag)`;
  return badRequest(`An encryption password with ${what} already exists${otherId ? ` (${otherId})` : ''}; give a different hint or uniqueId (tag).`, otherId);
}
