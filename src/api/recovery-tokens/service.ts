import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../../store/database.js';
import type { RecoveryTokensTable } from '../../store/schema.js';
import { fetchPage, type PageRequest } from '../../store/paged-query.js';
import { ApiError, badRequest, forbidden, notFound } from '../../http/errors.js';
import { formatInstant, toStoredInstant } from '../../http/dates.js';
import type { BackupsService } from '../backups/service.js';
import type { InstantRecoveryService } from '../restore/instant-recovery.js';

export type RecoveryTokenRow = Selectable<RecoveryTokensTable>;

/** What a token holder may ask for at most: the same ceiling as an administrator's published export. */
const MAX_EXPORT_MS = 1440 * 60_000;

/** A recognisable prefix, so secret scanners and people can tell a recovery token when they see one. */
const TOKEN_PREFIX = 'rrt_';

export function digestOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** ComputerRecoveryTokenModel; `recoveryToken` only in the reply that creates it. */
export function recoveryTokenModel(row: RecoveryTokenRow, token?: string) {
  return { id: row.id, name: row.name, ...(token !== undefined ? { recoveryToken: token } : {}), expirationDate: formatInstant(row.expiration_date)! };
}

function futureDate(value: string, field: string, mustBeFuture: boolean): string {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) throw badRequest(`Invalid "${field}": "${value.slice(0, 60)}" is not a date-time such as 2026-01-31T12:00:00+01:00.`);
  if (mustBeFuture && ms <= Date.now()) throw badRequest(`Invalid "${field}": ${value} is not in the future; a recovery token must be valid for some time.`);
  return new Date(ms).toISOString();
}

/**
 * Agent recovery tokens: a random 256-bit secret, shown once, kept as its SHA-256
 * digest (a digest of that much randomness cannot be guessed back, so no slow hash is
 * needed), that lets whoever holds it read the restore points of the listed backups,
 * and nothing else, until it expires or is deleted. Exports opened with a token end
 * when the token is deleted and never outlive its expiration date.
 */
export class RecoveryTokensService {
  /** Exports opened with each token (by token id): closed when the token goes or expires sooner. */
  private readonly opened = new Map<string, { exportNames: string[]; expiresAt: number }[]>();

  constructor(private readonly deps: { store: Store; backups: BackupsService; instantRecovery: InstantRecoveryService }) {}

  private get db() {
    return this.deps.store.db;
  }

  list(page: PageRequest, filters: { expiresBefore?: string; expiresAfter?: string }) {
    let q = this.db.selectFrom('recovery_tokens');
    if (filters.expiresBefore) q = q.where('expiration_date', '<=', filters.expiresBefore);
    if (filters.expiresAfter) q = q.where('expiration_date', '>=', filters.expiresAfter);
    return fetchPage<RecoveryTokenRow>(q, page, { nameColumn: 'name' });
  }

  async get(id: string): Promise<RecoveryTokenRow> {
    const row = await this.db.selectFrom('recovery_tokens').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
    if (!row) throw notFound(`Recovery token ${id} was not found.`, id);
    return row;
  }

  async create(spec: { backupIds: string[]; expirationDate: string; name?: string }): Promise<{ row: RecoveryTokenRow; token: string }> {
    const expiration = futureDate(spec.expirationDate, 'expirationDate', true);
    const ids = [...new Set(spec.backupIds.map((id) => id.toLowerCase()))];
    const names: string[] = [];
    for (const [i, id] of ids.entries()) {
      const backup = await this.deps.backups.getBackup(id).catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404) throw badRequest(`Invalid "backupIds[${i}]": there is no backup ${id}.`, id);
        throw err;
      });
      names.push(backup.name);
    }
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const name = spec.name ?? `Recovery token for ${names[0]}${names.length > 1 ? ` and ${names.length - 1} more` : ''}`;
    const row: RecoveryTokenRow = {
      id: randomUUID(),
      name,
      name_key: name.toLowerCase(),
      digest: digestOf(token),
      backup_ids: JSON.stringify(ids),
      expiration_date: expiration,
      creation_time: toStoredInstant(),
    };
    await this.db.insertInto('recovery_tokens').values(row).execute();
    return { row, token };
  }

  /** Name and expiration date; an earlier date also ends the exports that would outlive it. */
  async edit(id: string, model: { id?: string; name: string; expirationDate: string }): Promise<RecoveryTokenRow> {
    const row = await this.get(id);
    if (model.id !== undefined && model.id.toLowerCase() !== row.id) throw badRequest(`Invalid "id": the body is about ${model.id}, the path about ${id}.`, id);
    // Any date is accepted here: moving it to the past is how a token is suspended without deleting it.
    const expiration = futureDate(model.expirationDate, 'expirationDate', false);
    const changed = { ...row, name: model.name, name_key: model.name.toLowerCase(), expiration_date: expiration };
    await this.db.updateTable('recovery_tokens').set({ name: changed.name, name_key: changed.name_key, expiration_date: expiration }).where('id', '=', row.id).execute();
    await this.closeExports(row.id, Date.parse(expiration));
    return changed;
  }

  async remove(id: string): Promise<void> {
    const row = await this.get(id);
    await this.db.deleteFrom('recovery_tokens').where('id', '=', row.id).execute();
    await this.closeExports(row.id, 0);
  }

  /** The token's record, if the token is one Rampart issued, not deleted and not expired; else 401 (the message never repeats the token). */
  async authorize(token: string | undefined): Promise<RecoveryTokenRow> {
    if (!token) throw new ApiError(401, 'AccessDenied', 'A recovery token is required: send "Authorization: RecoveryToken <token>".');
    const row = await this.db.selectFrom('recovery_tokens').selectAll().where('digest', '=', digestOf(token)).executeTakeFirst();
    if (!row) throw new ApiError(401, 'InvalidToken', 'The recovery token is not valid (unknown or deleted).');
    if (Date.parse(row.expiration_date) <= Date.now())
      throw new ApiError(401, 'ExpiredToken', `The recovery token "${row.name}" expired at ${formatInstant(row.expiration_date)}.`);
    return row;
  }

  backupsOf(row: RecoveryTokenRow): string[] {
    return JSON.parse(row.backup_ids) as string[];
  }

  restorePoints(row: RecoveryTokenRow, page: PageRequest) {
    return this.deps.backups.listRestorePoints(page, { backupIds: this.backupsOf(row) });
  }

  /** A published, read-only NBD export of a restore point of one of the token's backups, ending no later than the token. */
  async openExport(row: RecoveryTokenRow, pointId: string, ttlMs: number) {
    // Unknown and not granted read the same, so a token does not tell which other points exist.
    const refused = () => forbidden(`This recovery token does not open restore point ${pointId}: it opens the restore points of its own backups only.`);
    const point = await this.deps.backups.getRestorePoint(pointId).catch((err: unknown) => {
      throw err instanceof ApiError && err.status === 404 ? refused() : err;
    });
    if (!this.backupsOf(row).includes(point.backup_id)) throw refused();
    const lifetime = Math.min(ttlMs, MAX_EXPORT_MS, Date.parse(row.expiration_date) - Date.now());
    if (lifetime <= 0) throw new ApiError(401, 'ExpiredToken', `The recovery token "${row.name}" expired at ${formatInstant(row.expiration_date)}.`);
    const published = await this.deps.instantRecovery.publish(point.id, lifetime);
    const live = (this.opened.get(row.id) ?? []).filter((e) => e.expiresAt > Date.now());
    live.push({ exportNames: published.exportNames, expiresAt: published.expiresAt.getTime() });
    this.opened.set(row.id, live);
    return { restorePointId: point.id, expiresAt: published.expiresAt, disks: published.disks };
  }

  private async closeExports(tokenId: string, notAfter: number): Promise<void> {
    const live = this.opened.get(tokenId);
    if (!live) return;
    const ending = live.filter((e) => e.expiresAt > notAfter);
    const kept = live.filter((e) => e.expiresAt <= notAfter && e.expiresAt > Date.now());
    if (kept.length) this.opened.set(tokenId, kept);
    else this.opened.delete(tokenId);
    await this.deps.instantRecovery.unpublish(ending.flatMap((e) => e.exportNames));
  }
}
