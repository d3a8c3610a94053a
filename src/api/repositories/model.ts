import type { Selectable } from 'kysely';
import type { RepositoriesTable } from '../../store/schema.js';
import { formatInstant } from '../../http/dates.js';
import { withBothSpellings, type Obj } from './settings.js';
import { TYPE_CATALOGUE } from './type-catalogue.js';
import type { RepositoryType } from './schemas.js';

export type RepositoryRow = Selectable<RepositoriesTable>;

export function settingsOf(row: Pick<RepositoryRow, 'settings'>): Obj {
  return JSON.parse(row.settings) as Obj;
}

/** RepositoryModel for every revision at once: both spellings of renamed fields, and `kind` (required by 1.1-rev0). */
export function repositoryModel(row: RepositoryRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    tag: row.unique_id,
    uniqueId: row.unique_id,
    type: row.type as RepositoryType,
    kind: TYPE_CATALOGUE[row.type as RepositoryType]?.kind ?? 'LocalStorage',
    ...(withBothSpellings(settingsOf(row)) as Obj),
  };
}

export function repositoryStateModel(row: RepositoryRow) {
  return {
    id: row.id,
    name: row.name,
    type: row.type as RepositoryType,
    description: row.description,
    ...(row.host_id ? { hostId: row.host_id } : {}),
    ...(row.host_name ? { hostName: row.host_name } : {}),
    ...(row.path ? { path: row.path } : {}),
    capacityGB: Number(row.capacity_gb),
    freeGB: Number(row.free_gb),
    usedSpaceGB: Number(row.used_gb),
    isOnline: Number(row.is_online) === 1,
    isOutOfDate: false,
    capacitySource: row.capacity_source,
    measuredAt: formatInstant(row.measured_at) ?? null,
    statusMessage: row.state_error,
  };
}
