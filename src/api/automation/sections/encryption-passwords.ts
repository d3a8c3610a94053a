import { MAX_LIMIT } from '../../../http/paging.js';
import type { EncryptionPasswordsService } from '../../encryption-passwords/service.js';
import { EncryptionPasswordExportSpec, EncryptionPasswordImportSpecCollection } from '../schemas.js';
import { arrayItems, nonEmpty, tagOf, type AutomationSection, type ImportItem } from '../section.js';

type Raw = Record<string, unknown>;

function describe(raw: Raw) {
  const tag = tagOf(raw);
  const hint = String(raw.hint);
  return {
    identity: tag !== '' ? `tag:${tag.toLowerCase()}` : `hint:${hint.toLowerCase()}`,
    label: `encryption password "${hint}"${tag ? ` (tag "${tag}")` : ''}`,
  };
}

export function encryptionPasswordsSection(service: EncryptionPasswordsService): AutomationSection {
  const allRows = async () => (await service.list({ skip: 0, limit: MAX_LIMIT, orderBy: 'hint_key', orderAsc: true })).rows;
  const lower = (list: unknown) => (Array.isArray(list) ? new Set(list.map((s) => String(s).toLowerCase())) : undefined);
  return {
    kind: 'encryptionPasswords',
    order: 11,
    exportSchema: EncryptionPasswordExportSpec,
    importSchema: EncryptionPasswordImportSpecCollection,
    secretPaths: ['password'],
    items: (collection) => arrayItems(collection, ['encryptionPasswords'], describe),
    async export(filter, withSecrets) {
      const ids = filter.ids as string[] | undefined;
      const hints = lower(filter.hints);
      const tags = lower(filter.tags);
      const from = typeof filter.modificationTimeFrom === 'string' ? Date.parse(filter.modificationTimeFrom) : undefined;
      const rows = (await allRows()).filter(
        (r) =>
          (!ids || ids.includes(r.id)) &&
          (!hints || hints.has(r.hint.toLowerCase())) &&
          (!tags || tags.has(r.unique_id.toLowerCase())) &&
          (from === undefined || Date.parse(r.modification_time) >= from),
      );
      const encryptionPasswords = [];
      for (const row of rows) {
        // A password imported without its value has none to seal.
        const password = withSecrets && row.verifier !== '' ? await service.passwordFor(row.id) : '';
        encryptionPasswords.push({ password, hint: row.hint, tag: row.unique_id, uniqueId: row.unique_id });
      }
      return { encryptionPasswords };
    },
    async existing() {
      return new Map((await allRows()).map((r) => [r.dedup_key, r.id]));
    },
    async create(item: ImportItem) {
      await service.add(item.raw, { secretMayBeMissing: true });
      return nonEmpty(item.raw.password)
        ? []
        : ['imported without its password (exports carry none): set it before a job encrypts with it (POST /api/v1/encryptionPasswords/{id}/changepassword)'];
    },
    async overwrite(item: ImportItem, id: string) {
      await service.overwrite(id, item.raw);
      return nonEmpty(item.raw.password) ? [] : ['overwritten without a password: the stored password was kept'];
    },
  };
}
