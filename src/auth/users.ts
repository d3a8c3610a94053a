import { randomUUID } from 'node:crypto';
import type { Store } from '../store/database.js';
import { toStoredInstant } from '../http/dates.js';
import { hashPassword } from './passwords.js';
import { isRole, ROLES, type Role } from './roles.js';

export interface User {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
}

export class UserError extends Error {}

const NAME_PATTERN = /^[A-Za-z0-9._@\\-]{1,128}$/;

export function checkUserName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new UserError(`"${name}" is not a valid user name: use 1-128 letters, digits and . _ @ \\ -`);
  }
}

export function checkNewPassword(password: string): void {
  if (password.length < 8) throw new UserError('The password must be at least 8 characters long.');
  if (password.length > 1024) throw new UserError('The password must be at most 1024 characters long.');
}

export class UserDirectory {
  constructor(private readonly store: Store) {}

  async count(): Promise<number> {
    const row = await this.store.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async findByName(name: string): Promise<(User & { passwordHash: string; tokensValidAfter: string }) | undefined> {
    const row = await this.store.db.selectFrom('users').selectAll().where('name_key', '=', name.toLowerCase()).executeTakeFirst();
    if (!row) return undefined;
    return { ...toUser(row), passwordHash: row.password_hash, tokensValidAfter: row.tokens_valid_after };
  }

  async findById(id: string): Promise<(User & { tokensValidAfter: string }) | undefined> {
    const row = await this.store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? { ...toUser(row), tokensValidAfter: row.tokens_valid_after } : undefined;
  }

  async list(): Promise<User[]> {
    const rows = await this.store.db.selectFrom('users').selectAll().orderBy('name_key').execute();
    return rows.map(toUser);
  }

  async add(name: string, role: Role, password: string): Promise<User> {
    checkUserName(name);
    checkNewPassword(password);
    if (await this.findByName(name)) throw new UserError(`A user named "${name}" already exists.`);
    const now = toStoredInstant();
    const row = {
      id: randomUUID(),
      name,
      name_key: name.toLowerCase(),
      role,
      password_hash: await hashPassword(password),
      created_at: now,
      tokens_valid_after: now,
    };
    await this.store.db.insertInto('users').values(row).execute();
    return toUser(row);
  }

  /** Changing a password signs the user out everywhere: older tokens stop working. */
  async setPassword(name: string, password: string): Promise<void> {
    checkNewPassword(password);
    const result = await this.store.db
      .updateTable('users')
      .set({ password_hash: await hashPassword(password), tokens_valid_after: toStoredInstant() })
      .where('name_key', '=', name.toLowerCase())
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw new UserError(`No user named "${name}".`);
  }

  async setRole(name: string, role: Role): Promise<void> {
    const result = await this.store.db.updateTable('users').set({ role, tokens_valid_after: toStoredInstant() }).where('name_key', '=', name.toLowerCase()).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw new UserError(`No user named "${name}".`);
  }
}

function toUser(row: { id: string; name: string; role: string; created_at: string }): User {
  return { id: row.id, name: row.name, role: isRole(row.role) ? row.role : ROLES[0], createdAt: row.created_at };
}
