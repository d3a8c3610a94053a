import { StatesRefresher, type MeasureTarget } from '../../storage/refresher.js';
import { isMeasurable, hostKeyOf, measureRepository } from './checks.js';
import { settingsOf } from './model.js';
import type { RepositoriesService } from './service.js';

export interface RefreshSettings {
  intervalMs: number;
  concurrency: number;
  perHostConcurrency: number;
  timeoutMs: number;
}

/** The background refresher over the repositories table: measures, stores, never blocks a list. */
export function createStatesRefresher(service: RepositoriesService, settings: RefreshSettings, onError: (err: unknown) => void): StatesRefresher {
  const hostCache = new Map<string, Awaited<ReturnType<RepositoriesService['hostOf']>>>();
  return new StatesRefresher({
    ...settings,
    onError,
    async targets(ids) {
      hostCache.clear();
      const rows = await service.allRows(ids);
      const targets: MeasureTarget[] = [];
      for (const row of rows) {
        const key = row.host_id ?? '';
        if (row.host_id && !hostCache.has(key)) hostCache.set(key, await service.hostOf(row));
        const host = row.host_id ? hostCache.get(key) : undefined;
        if (!isMeasurable(row.type, host)) continue;
        const s = settingsOf(row);
        targets.push({
          id: row.id,
          hostKey: hostKeyOf(row.type, s, row.host_id),
          measure: (signal) => measureRepository(row.type, s, host, service.checks, signal, { background: true, repository: row }),
        });
      }
      return targets;
    },
    save: (outcome, at) => service.saveFigures(outcome.id, outcome, at),
  });
}
