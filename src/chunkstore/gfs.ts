/**
 * Long-term (GFS) retention flags: docs/repository-format.md §9a. A restore
 * point of this store is self-contained (its indexes name every chunk), so any
 * point can be a weekly, monthly or yearly "full" without a synthetic full
 * being built. The flags live beside the manifest in `gfs.json`, written once
 * after the commit, so a lost database does not lose them (rescan).
 *
 * Periods follow Veeam's GFSPolicySettingsModel, in the server's local time:
 * the weekly period starts on `weekly.desiredTime` (a day of the week); the
 * monthly one in `monthly.desiredTime` week of each month (First = days 1-7,
 * Second = 8-14…, Last = the month's last 7 days); the yearly one on the 1st
 * of `yearly.desiredTime` (a month). The first restore point of a period takes
 * its flag, and keeps it for `keepForNumberOfWeeks|Months|Years` from its
 * creation.
 */
import { BlobNotFoundError } from './backend.js';
import { restorePointFolder, type RestorePointRef } from './layout.js';
import type { ChunkStore } from './repository.js';
import { listRestorePoints } from './restore-points.js';

export type GfsPeriod = 'Weekly' | 'Monthly' | 'Yearly';

export interface GfsPolicy {
  isEnabled: boolean;
  weekly?: { isEnabled: boolean; keepForNumberOfWeeks?: number; desiredTime?: string };
  monthly?: { isEnabled: boolean; keepForNumberOfMonths?: number; desiredTime?: string };
  yearly?: { isEnabled: boolean; keepForNumberOfYears?: number; desiredTime?: string };
}

export const GFS_NAME = 'gfs.json';
const GFS_FORMAT = 'rampart-gfs';

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const WEEKS: Record<string, number> = { first: 1, second: 8, third: 15, fourth: 22, fifth: 29 };

function daysIn(year: number, month: number): number {
  return new Date(year, month + 1, 0).getDate();
}

/** The local day on which a month's monthly period begins. */
function monthlyStart(year: number, month: number, week: string): Date {
  const w = week.toLowerCase();
  const last = daysIn(year, month);
  const day = w === 'last' ? last - 6 : Math.min(WEEKS[w] ?? 1, last);
  return new Date(year, month, day);
}

/** The start of the period of `kind` that holds `at` (local time). */
export function gfsPeriodStart(kind: GfsPeriod, policy: GfsPolicy, at: Date): Date {
  if (kind === 'Weekly') {
    const want = Math.max(0, DAYS.indexOf((policy.weekly?.desiredTime ?? 'sunday').toLowerCase()));
    const back = (at.getDay() - want + 7) % 7;
    return new Date(at.getFullYear(), at.getMonth(), at.getDate() - back);
  }
  if (kind === 'Monthly') {
    const week = policy.monthly?.desiredTime ?? 'First';
    const here = monthlyStart(at.getFullYear(), at.getMonth(), week);
    return at >= here ? here : monthlyStart(at.getFullYear(), at.getMonth() - 1, week);
  }
  const month = Math.max(0, MONTHS.indexOf((policy.yearly?.desiredTime ?? 'january').toLowerCase()));
  const here = new Date(at.getFullYear(), month, 1);
  return at >= here ? here : new Date(at.getFullYear() - 1, month, 1);
}

/** The periods the policy turns on. */
export function enabledPeriods(policy: GfsPolicy | undefined): GfsPeriod[] {
  if (!policy?.isEnabled) return [];
  const out: GfsPeriod[] = [];
  if (policy.weekly?.isEnabled) out.push('Weekly');
  if (policy.monthly?.isEnabled) out.push('Monthly');
  if (policy.yearly?.isEnabled) out.push('Yearly');
  return out;
}

export interface FlaggedPoint {
  createdAt: string;
  periods: GfsPeriod[];
}

/** The flags a new point created at `createdAt` takes: each enabled period that no other point of its chain holds yet. */
export function gfsPeriodsFor(policy: GfsPolicy | undefined, createdAt: Date, chain: FlaggedPoint[]): GfsPeriod[] {
  return enabledPeriods(policy).filter((kind) => {
    const start = gfsPeriodStart(kind, policy!, createdAt).getTime();
    return !chain.some((p) => p.periods.includes(kind) && gfsPeriodStart(kind, policy!, new Date(p.createdAt)).getTime() === start);
  });
}

/** Until when the flags hold the point; undefined when they do not (none, or that period's keeping is off now). */
export function gfsKeptUntil(policy: GfsPolicy | undefined, point: FlaggedPoint): Date | undefined {
  const created = new Date(point.createdAt);
  let until: Date | undefined;
  const later = (d: Date) => (until = !until || d > until ? d : until);
  for (const kind of point.periods) {
    if (!enabledPeriods(policy).includes(kind)) continue;
    if (kind === 'Weekly') later(new Date(created.getTime() + (policy!.weekly!.keepForNumberOfWeeks ?? 1) * 7 * 86_400_000));
    if (kind === 'Monthly')
      later(new Date(created.getFullYear(), created.getMonth() + (policy!.monthly!.keepForNumberOfMonths ?? 1), created.getDate(), created.getHours(), created.getMinutes()));
    if (kind === 'Yearly')
      later(new Date(created.getFullYear() + (policy!.yearly!.keepForNumberOfYears ?? 1), created.getMonth(), created.getDate(), created.getHours(), created.getMinutes()));
  }
  return until;
}

function gfsKey(ref: RestorePointRef): string {
  return `${restorePointFolder(ref)}${GFS_NAME}`;
}

/** The flags recorded for a restore point ([] when none were). */
export async function readGfsPeriods(store: ChunkStore, ref: RestorePointRef): Promise<GfsPeriod[]> {
  let bytes: Buffer;
  try {
    bytes = await store.backend.get(gfsKey(ref));
  } catch (err) {
    if (err instanceof BlobNotFoundError) return [];
    throw err;
  }
  try {
    const file = JSON.parse(bytes.toString('utf8')) as { format?: string; periods?: unknown };
    if (file.format !== GFS_FORMAT || !Array.isArray(file.periods)) return [];
    return file.periods.filter((p): p is GfsPeriod => p === 'Weekly' || p === 'Monthly' || p === 'Yearly');
  } catch {
    // An unreadable flag file flags nothing: short-term retention still keeps what it must.
    return [];
  }
}

export async function writeGfsPeriods(store: ChunkStore, ref: RestorePointRef, periods: GfsPeriod[]): Promise<void> {
  await store.backend.put(gfsKey(ref), Buffer.from(`${JSON.stringify({ format: GFS_FORMAT, version: 1, periods })}\n`, 'utf8'));
}

/**
 * Gives a just-committed restore point the flags of the periods it opens
 * (idempotent: a point already flagged keeps its flags). Returns its flags.
 */
export async function flagRestorePoint(store: ChunkStore, ref: RestorePointRef, policy: GfsPolicy | undefined): Promise<GfsPeriod[]> {
  if (enabledPeriods(policy).length === 0) return [];
  const already = await readGfsPeriods(store, ref);
  if (already.length > 0) return already;
  const points = await listRestorePoints(store, { within: { backupId: ref.backupId, objectId: ref.objectId } });
  const self = points.find((p) => p.restorePointId === ref.restorePointId);
  if (!self?.createdAt) return [];
  const chain: FlaggedPoint[] = [];
  for (const p of points) if (p.restorePointId !== ref.restorePointId && p.createdAt) chain.push({ createdAt: p.createdAt, periods: await readGfsPeriods(store, p) });
  const periods = gfsPeriodsFor(policy, new Date(self.createdAt), chain);
  if (periods.length > 0) await writeGfsPeriods(store, ref, periods);
  return periods;
}
