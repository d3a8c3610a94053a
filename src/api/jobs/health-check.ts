import { verifyRestorePoints, type ChunkStore, type RestorePointRef } from '../../chunkstore/index.js';
import type { SessionContext } from '../../sessions/runner.js';

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const ORDINALS = ['First', 'Second', 'Third', 'Fourth'];

interface HealthSettings {
  isEnabled?: boolean;
  weekly?: { isEnabled?: boolean; days?: string[] };
  monthly?: { isEnabled?: boolean; dayOfWeek?: string; dayNumberInMonth?: string; dayOfMonths?: number; months?: string[] };
}

/**
 * Whether `backupHealth` asks for a health check on `now`'s day (server local
 * time). As in Veeam, the check is part of the job's run on a scheduled day,
 * not a session of its own.
 */
export function healthCheckDue(settings: HealthSettings | undefined, now: Date): boolean {
  if (!settings?.isEnabled) return false;
  const weekday = DAYS[now.getDay()]!;
  if (settings.weekly?.isEnabled && (settings.weekly.days ?? []).map((d) => d.toLowerCase()).includes(weekday)) return true;
  const m = settings.monthly;
  if (!m?.isEnabled) return false;
  if (m.months?.length && !m.months.includes(MONTHS[now.getMonth()]!)) return false;
  if (m.dayNumberInMonth === 'OnDay' || (m.dayNumberInMonth === undefined && m.dayOfMonths !== undefined)) return now.getDate() === m.dayOfMonths;
  if (!m.dayOfWeek || m.dayOfWeek.toLowerCase() !== weekday) return false;
  if (m.dayNumberInMonth === 'Last') return new Date(now.getFullYear(), now.getMonth(), now.getDate() + 7).getMonth() !== now.getMonth();
  const ordinal = ORDINALS.indexOf(m.dayNumberInMonth ?? '');
  return ordinal >= 0 && Math.floor((now.getDate() - 1) / 7) === ordinal;
}

/**
 * The health check of a run: every chunk the restore points written now need
 * (their own and those they share with earlier points) is re-read and checked
 * (CRC, GCM tag, digest) by the chunk store's verify. Corrupt chunks are
 * quarantined by verify; the log names each damaged restore point.
 * Returns how many restore points are damaged. POST /api/v1/backups/runHealthcheck
 * runs this same check over whole backups (src/api/backups/health-check.ts).
 */
export async function runHealthCheck(
  ctx: SessionContext,
  checks: Array<{ store: ChunkStore; refs: Array<RestorePointRef & { vmName: string }> }>,
  /** The encryption password(s) that may open the points (a job's own, or every one the vault holds). */
  password?: string | string[],
): Promise<number> {
  const passwords = password === undefined ? [] : Array.isArray(password) ? password : [password];
  let damaged = 0;
  let chunks = 0;
  let points = 0;
  for (const { store, refs } of checks) {
    if (refs.length === 0) continue;
    const report = await verifyRestorePoints(store, { passwords, refs });
    chunks += report.checkedChunks;
    points += refs.length;
    for (const bad of report.damagedRestorePoints) {
      damaged++;
      const ref = refs.find((r) => bad.restorePoint.includes(r.restorePointId));
      await ctx.log(
        `Health check: restore point ${ref?.restorePointId ?? bad.restorePoint}${ref ? ` of ${ref.vmName}` : ''} is corrupt`,
        'Failed',
        bad.problems.slice(0, 5).join('; '),
      );
    }
  }
  if (damaged === 0) await ctx.log(`Health check: ${points} restore point(s), ${chunks} chunk(s) verified, no corruption found`);
  return damaged;
}
