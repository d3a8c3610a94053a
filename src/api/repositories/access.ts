import { badRequest } from '../../http/errors.js';
import type { EncryptionPasswordsService } from '../encryption-passwords/service.js';
import type { Obj } from './settings.js';
import { ACCOUNT_TYPES } from './schemas.js';

export type AccountType = (typeof ACCOUNT_TYPES)[number];

/** An account allowed to use a repository: 1.3-rev2's RepositoryAccessAccountModel (earlier documents send only the name). */
export interface AccessAccount {
  name: string;
  type: AccountType;
}

/** What is stored for a repository (or scale-out repository). */
export interface AccessPermissions {
  accessPolicy: 'DenyAll' | 'AllowAll' | 'AllowExplicit';
  accounts: AccessAccount[];
  encryptBackups: boolean;
  passwordId?: string | null;
}

export const DEFAULT_ACCESS: AccessPermissions = { accessPolicy: 'AllowAll', accounts: [], encryptBackups: false, passwordId: null };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * A plain account name (1.1-rev0 … 1.3-rev1) says nothing of its kind: `DOMAIN\name` and
 * `name@domain` are directory accounts, anything else one of this server's own users.
 */
function accountOf(value: unknown, at: string): AccessAccount {
  if (typeof value === 'string') return { name: value, type: /[\\@]/.test(value) ? 'ExternalUser' : 'InternalUser' };
  if (isObj(value) && typeof value.name === 'string' && (ACCOUNT_TYPES as readonly unknown[]).includes(value.type)) return { name: value.name, type: value.type as AccountType };
  throw badRequest(`The field "${at}" must be an account name or an object {name, type} with type one of ${ACCOUNT_TYPES.join(', ')}.`);
}

/** Stored permissions, from before accounts had a type too. */
export function storedAccess(json: string): AccessPermissions {
  const stored = { ...DEFAULT_ACCESS, ...(JSON.parse(json) as Partial<AccessPermissions>) };
  return { ...stored, accounts: (stored.accounts as unknown[]).map((a, i) => accountOf(a, `accounts[${i}]`)) };
}

/**
 * A PUT body in any document's spelling: 1.1-rev0's `encryptBackups`/`passwordId`, or
 * 1.2's `encryptionSettings`; accounts as names or (1.3-rev2) `{name, type}` objects.
 */
export async function checkAccess(body: Obj, passwords: EncryptionPasswordsService): Promise<AccessPermissions> {
  const accounts = Array.isArray(body.accounts) ? (body.accounts as unknown[]).map((a, i) => accountOf(a, `accounts[${i}]`)) : [];
  const policy = body.accessPolicy as AccessPermissions['accessPolicy'];
  if (policy === 'AllowExplicit' && accounts.length === 0) throw badRequest('The field "accounts" must list at least one account when accessPolicy is AllowExplicit.');
  const settings = isObj(body.encryptionSettings) ? body.encryptionSettings : undefined;
  if (settings?.encryptionType === 'ByKms') throw badRequest('The field "encryptionSettings.encryptionType" cannot be ByKms: Rampart has no KMS servers; use ByUserPassword.');
  const encrypt = settings ? settings.isEnabled === true : body.encryptBackups === true;
  const field = settings ? 'encryptionSettings.encryptionPasswordId' : 'passwordId';
  const passwordId = text(settings ? settings.encryptionPasswordId : body.passwordId)?.toLowerCase() ?? null;
  if (encrypt) {
    if (!passwordId) throw badRequest(`The field "${field}" is required when backups are encrypted.`);
    await passwords.get(passwordId).catch((err) => {
      if ((err as { status?: number }).status === 404) throw badRequest(`The encryption password in "${field}" (${passwordId}) does not exist.`, passwordId);
      throw err;
    });
  }
  return { accessPolicy: policy, accounts: policy === 'AllowExplicit' ? accounts : [], encryptBackups: encrypt, passwordId: encrypt ? passwordId : null };
}

/** RepositoryAccessPermissionsModel in every document's fields at once; revisions/replies/repositories.ts picks each document's. */
export function accessModel(access: AccessPermissions) {
  return {
    accessPolicy: access.accessPolicy,
    accounts: access.accounts,
    encryptBackups: access.encryptBackups,
    ...(access.passwordId ? { passwordId: access.passwordId } : {}),
    encryptionSettings: {
      isEnabled: access.encryptBackups,
      ...(access.encryptBackups && access.passwordId ? { encryptionType: 'ByUserPassword', encryptionPasswordId: access.passwordId } : {}),
    },
  };
}
