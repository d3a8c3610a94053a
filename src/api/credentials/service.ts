import { randomUUID } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import type { Store } from '../../store/database.js';
import type { CredentialsTable } from '../../store/schema.js';
import { fetchPage, likePattern, type PageRequest } from '../../store/paged-query.js';
import { inTransaction } from '../../store/transaction.js';
import { inGroupedTransaction } from '../../store/group-commit.js';
import { describeUsers, type ReferenceRegistry } from '../../store/references.js';
import { isUniqueViolation } from '../../store/unique-violation.js';
import type { SecretOwner, SecretStore } from '../../vault/secret-store.js';
import { badRequest, notFound } from '../../http/errors.js';
import { formatInstant, toStoredInstant } from '../../http/dates.js';
import { renamedField } from '../../http/renamed-fields.js';
import { checkPrivateKey } from './private-key.js';

/** Other sections (managed servers' single-use credentials) check keys the same way. */
export { checkPrivateKey };
import type { CredentialsType } from './schemas.js';

/** The owner kind of credentials secrets in the vault, and the target kind for reference finders. */
export const CREDENTIALS_KIND = 'credentials';

export type CredentialsRow = Selectable<CredentialsTable>;

export interface CredentialsFilters {
  types?: string[];
  createdAfter?: string;
  createdBefore?: string;
}

/** The secrets of a record, opened: what a managed-server connection will use. */
export interface CredentialsSecrets {
  password?: string;
  privateKey?: string;
  passphrase?: string;
  rootPassword?: string;
}

type Body = Record<string, unknown>;

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const flag = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

/**
 * The duplicate rule: a non-empty uniqueId (tag) identifies one record of the
 * section; records without one are told apart by type and user name
 * (case-insensitive). The key is stored under a unique index, so two requests
 * racing cannot both win.
 */
/**
 * Only a uniqueId (tag) must be unique: Veeam keeps several records for one user name
 * (told apart by their description), so a record without a tag is keyed by its own id.
 */
function dedupKey(id: string, uniqueId: string): string {
  return uniqueId !== '' ? `tag:${uniqueId.toLowerCase()}` : `id:${id}`;
}

function ownerOf(row: Pick<CredentialsRow, 'id' | 'type'>): SecretOwner {
  return { kind: CREDENTIALS_KIND, type: row.type, id: row.id };
}

/**
 * CredentialsModel in the newest spelling (uniqueId, elevateToRoot, authenticationType);
 * revisions/replies/credentials.ts shapes it for older documents. Secrets are never sent.
 */
export function credentialsModel(row: CredentialsRow, keyed: ReadonlySet<string> = new Set()) {
  const base = {
    id: row.id,
    username: row.username,
    description: row.description,
    type: row.type as CredentialsType,
    creationTime: formatInstant(row.creation_time)!,
    uniqueId: row.unique_id,
  };
  if (row.type !== 'Linux') return base;
  return {
    ...base,
    SSHPort: Number(row.ssh_port),
    elevateToRoot: Number(row.elevate_to_root) === 1,
    addToSudoers: Number(row.add_to_sudoers) === 1,
    useSu: Number(row.use_su) === 1,
    authenticationType: keyed.has(row.id) ? 'SshKey' : 'Password',
  };
}

export class CredentialsService {
  constructor(
    private readonly store: Store,
    private readonly secrets: SecretStore,
    private readonly references: ReferenceRegistry,
  ) {}

  /** The ids among `rows` that log in with a private key (1.3's `authenticationType: SshKey`); one query, no secret opened. */
  async withPrivateKey(rows: readonly CredentialsRow[]): Promise<Set<string>> {
    const ids = rows.filter((r) => r.type === 'Linux').map((r) => r.id);
    if (ids.length === 0) return new Set();
    const found = await this.store.db
      .selectFrom('vault_secrets')
      .select('owner_id')
      .where('owner_kind', '=', CREDENTIALS_KIND)
      .where('field', '=', 'privateKey')
      .where('owner_id', 'in', ids)
      .execute();
    return new Set(found.map((r) => r.owner_id));
  }

  async list(page: PageRequest, filters: CredentialsFilters) {
    let query = this.store.db.selectFrom('credentials');
    if (filters.types) query = query.where('type', 'in', filters.types);
    if (filters.createdAfter) query = query.where('creation_time', '>=', filters.createdAfter);
    if (filters.createdBefore) query = query.where('creation_time', '<=', filters.createdBefore);
    if (page.nameFilter) {
      // "The pattern can match any credentials parameter": user name, description or tag.
      const pattern = likePattern(page.nameFilter);
      query = query.where(({ or }) => or(['username_key', 'description_key', 'unique_id'].map((c) => sql<boolean>`lower(${sql.ref(c)}) like ${pattern} escape '\\'`)));
    }
    return fetchPage<CredentialsRow>(query, { ...page, nameFilter: undefined });
  }

  async get(id: string): Promise<CredentialsRow> {
    const row = await this.store.db.selectFrom('credentials').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`Credentials record ${id} was not found.`, id);
    return row;
  }

  /**
   * `secretMayBeMissing` is for imports: Veeam exports every record with empty
   * secrets, so an imported record may arrive without one and waits for it to be set.
   */
  async add(spec: Body, options: { secretMayBeMissing?: boolean } = {}): Promise<CredentialsRow> {
    const { row, secrets } = this.prepare(spec, options.secretMayBeMissing ?? false);
    // No look-up first: the unique index on dedup_key refuses a duplicate, and guardUnique names it.
    // Grouped: adds arriving together share one commit (store/group-commit.ts).
    await this.guardUnique(row, () =>
      inGroupedTransaction(this.store.db, async (trx) => {
        await trx.insertInto('credentials').values(row).execute();
        await this.secrets.write(trx, ownerOf(row), secrets);
      }),
    );
    return row;
  }

  /** PUT: every non-secret field of the model; secrets change only through the change* calls. */
  async edit(id: string, model: Body): Promise<CredentialsRow> {
    const existing = await this.get(id);
    if (model.id !== undefined && model.id !== id) throw badRequest(`The body's id ${String(model.id)} is not the id in the path (${id}).`, id);
    if (model.type !== existing.type) throw badRequest(`The type of a credentials record cannot be changed (it is ${existing.type}); add a new record instead.`, id);
    const uniqueId = renamedField<string>(model, 'tag', 'uniqueId', existing.unique_id) ?? existing.unique_id;
    const linux = existing.type === 'Linux';
    const elevate = renamedField<boolean>(model, 'autoElevated', 'elevateToRoot', Number(existing.elevate_to_root) === 1);
    const row: CredentialsRow = {
      ...existing,
      ...this.describedFields(existing.id, { ...model, description: model.description ?? existing.description }, uniqueId),
      ssh_port: linux ? ((model.SSHPort as number | null | undefined) ?? Number(existing.ssh_port)) : 22,
      elevate_to_root: linux && elevate !== undefined ? (elevate ? 1 : 0) : existing.elevate_to_root,
      add_to_sudoers: linux && flag(model.addToSudoers) !== undefined ? (model.addToSudoers ? 1 : 0) : existing.add_to_sudoers,
      use_su: linux && flag(model.useSu) !== undefined ? (model.useSu ? 1 : 0) : existing.use_su,
    };
    await this.refuseDuplicate(row);
    const { id: _id, creation_time: _c, type: _t, ...changes } = row;
    await this.guardUnique(row, () => this.store.db.updateTable('credentials').set(changes).where('id', '=', id).execute());
    return row;
  }

  /**
   * An import's fast path: the records of a batch go in together (one statement
   * for the rows, one transaction), which is what makes 10,000 of them quick. If
   * anything in the batch fails, the transaction rolls back and each record is
   * added on its own, so one bad record never takes the others with it and never
   * leaves half of itself. Returns, per spec, its row or what refused it.
   */
  async addMany(specs: Body[], options: { secretMayBeMissing?: boolean } = {}): Promise<(CredentialsRow | Error)[]> {
    const prepared = specs.map((spec) => {
      try {
        return this.prepare(spec, options.secretMayBeMissing ?? false);
      } catch (err) {
        return err as Error;
      }
    });
    const good = prepared.filter((p): p is ReturnType<CredentialsService['prepare']> => !(p instanceof Error));
    try {
      if (good.length > 0) {
        await inTransaction(this.store.db, async (trx) => {
          // 15 columns a row: 500 rows stay under every dialect's bound-parameter limit.
          for (let i = 0; i < good.length; i += 500)
            await trx
              .insertInto('credentials')
              .values(good.slice(i, i + 500).map((g) => g.row))
              .execute();
          await this.secrets.writeNew(
            trx,
            good.map((g) => ({ owner: ownerOf(g.row), fields: g.secrets })),
          );
        });
      }
      return prepared.map((p) => (p instanceof Error ? p : p.row));
    } catch {
      const out: (CredentialsRow | Error)[] = [];
      for (const spec of specs) out.push(await this.add(spec, options).catch((err: Error) => err));
      return out;
    }
  }

  /** A spec as the row to insert and the secrets to seal, checked; nothing is written. */
  private prepare(spec: Body, secretMayBeMissing: boolean) {
    const type = spec.type as CredentialsType;
    const { password, privateKey, passphrase, rootPassword } = checkedSecrets(type, spec, secretMayBeMissing);
    const uniqueId = renamedField<string>(spec, 'tag', 'uniqueId') ?? '';
    const id = randomUUID();
    const row: CredentialsRow = {
      id,
      type,
      ...this.describedFields(id, spec, uniqueId),
      ssh_port: type === 'Linux' ? ((spec.SSHPort as number | null | undefined) ?? 22) : 22,
      elevate_to_root: renamedField<boolean>(spec, 'autoElevated', 'elevateToRoot') ? 1 : 0,
      add_to_sudoers: flag(spec.addToSudoers) ? 1 : 0,
      use_su: flag(spec.useSu) ? 1 : 0,
      creation_time: toStoredInstant(),
    };
    return { row, secrets: { password, privateKey, passphrase, rootPassword } };
  }

  /**
   * An import's overwrite: every non-secret field from the spec, plus the secrets
   * it carries (an empty one leaves the stored secret as it is), in one transaction.
   */
  async overwrite(id: string, spec: Body): Promise<CredentialsRow> {
    const existing = await this.get(id);
    if (spec.type !== existing.type) throw badRequest(`The type of a credentials record cannot be changed (it is ${existing.type}); add a new record instead.`, id);
    const { password, privateKey, passphrase, rootPassword } = checkedSecrets(existing.type as CredentialsType, spec, true);
    const uniqueId = renamedField<string>(spec, 'tag', 'uniqueId') ?? '';
    const linux = existing.type === 'Linux';
    const row: CredentialsRow = {
      ...existing,
      ...this.describedFields(existing.id, spec, uniqueId),
      ssh_port: linux ? ((spec.SSHPort as number | null | undefined) ?? 22) : 22,
      elevate_to_root: linux && renamedField<boolean>(spec, 'autoElevated', 'elevateToRoot') ? 1 : 0,
      add_to_sudoers: linux && flag(spec.addToSudoers) ? 1 : 0,
      use_su: linux && flag(spec.useSu) ? 1 : 0,
    };
    await this.refuseDuplicate(row);
    const { id: _id, creation_time: _c, type: _t, ...changes } = row;
    await this.guardUnique(row, () =>
      inTransaction(this.store.db, async (trx) => {
        await trx.updateTable('credentials').set(changes).where('id', '=', id).execute();
        // A new key replaces the old key's passphrase too.
        await this.secrets.write(trx, ownerOf(row), { password, privateKey, passphrase: privateKey ? (passphrase ?? null) : undefined, rootPassword });
      }),
    );
    return row;
  }

  async remove(id: string): Promise<void> {
    await inTransaction(this.store.db, async (trx) => {
      const row = await trx.selectFrom('credentials').select(['id', 'type', 'username']).where('id', '=', id).executeTakeFirst();
      if (!row) throw notFound(`Credentials record ${id} was not found.`, id);
      const users = await this.references.usersOf(trx, CREDENTIALS_KIND, id);
      if (users.length > 0) {
        throw badRequest(`Credentials record "${row.username}" (${id}) cannot be removed: it is used by ${describeUsers(users)}.`, id);
      }
      await this.secrets.removeAll(trx, ownerOf(row));
      await trx.deleteFrom('credentials').where('id', '=', id).execute();
    });
  }

  async changePassword(id: string, password: string): Promise<void> {
    const row = await this.get(id);
    await this.secrets.write(this.store.db, ownerOf(row), { password });
  }

  async changePrivateKey(id: string, privateKey: string, passphrase: string | undefined): Promise<void> {
    const row = await this.get(id);
    if (row.type !== 'Linux') throw badRequest(`Credentials record ${id} is of type ${row.type}; only Linux credentials have a private key.`, id);
    checkPrivateKey(privateKey, passphrase || undefined);
    // The passphrase belongs to the key: a new key without one clears the old passphrase.
    await this.secrets.write(this.store.db, ownerOf(row), { privateKey, passphrase: passphrase || null });
  }

  async changeRootPassword(id: string, password: string): Promise<void> {
    const row = await this.get(id);
    if (row.type !== 'Linux') throw badRequest(`Credentials record ${id} is of type ${row.type}; only Linux credentials have a root password.`, id);
    await this.secrets.write(this.store.db, ownerOf(row), { rootPassword: password });
  }

  /** Opens the record's secrets for a connection (managed servers, repositories). Never for a reply. */
  async secretsFor(id: string): Promise<CredentialsSecrets> {
    const row = await this.get(id);
    return this.secrets.readAll(this.store.db, ownerOf(row)) as Promise<CredentialsSecrets>;
  }

  private describedFields(id: string, body: Body, uniqueId: string) {
    const username = text(body.username) ?? '';
    const description = text(body.description) ?? '';
    return {
      username,
      username_key: username.toLowerCase(),
      description,
      description_key: description.toLowerCase(),
      unique_id: uniqueId,
      dedup_key: dedupKey(id, uniqueId),
    };
  }

  private async refuseDuplicate(row: CredentialsRow): Promise<void> {
    const other = await this.store.db.selectFrom('credentials').select(['id']).where('dedup_key', '=', row.dedup_key).where('id', '!=', row.id).executeTakeFirst();
    if (other) throw duplicate(row, other.id);
  }

  private async guardUnique<T>(row: CredentialsRow, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const other = await this.store.db.selectFrom('credentials').select('id').where('dedup_key', '=', row.dedup_key).executeTakeFirst();
      throw duplicate(row, other?.id);
    }
  }
}

/** The secrets a spec carries, checked against what its type allows and needs. */
function checkedSecrets(type: CredentialsType, spec: Body, secretMayBeMissing: boolean) {
  const password = text(spec.password) || undefined;
  const privateKey = text(spec.privateKey) || undefined;
  const passphrase = text(spec.passphrase) || undefined;
  const rootPassword = text(spec.rootPassword) || undefined;
  if (type === 'Standard') {
    if (!password && !secretMayBeMissing) throw badRequest('The request body is missing the required field "password" (Standard credentials need a password).');
    for (const field of ['privateKey', 'passphrase', 'rootPassword', 'SSHPort', 'autoElevated', 'elevateToRoot', 'addToSudoers', 'useSu']) {
      if (spec[field] !== undefined && spec[field] !== null && spec[field] !== '') throw badRequest(`The field "${field}" applies to Linux credentials only.`);
    }
  } else {
    if (!password && !privateKey && !secretMayBeMissing)
      throw badRequest('The request body is missing the required field "password" or "privateKey" (Linux credentials need one of them).');
    if (passphrase && !privateKey) throw badRequest('The field "passphrase" needs a "privateKey" to go with it.');
    if (privateKey) checkPrivateKey(privateKey, passphrase);
  }
  return { password, privateKey, passphrase, rootPassword };
}

function duplicate(row: CredentialsRow, otherId: string | undefined) {
  return badRequest(
    `A credentials record with the uniqueId (tag) "${row.unique_id}" already exists${otherId ? ` (${otherId})` : ''}; give a different uniqueId (tag) to keep both.`,
    otherId,
  );
}
