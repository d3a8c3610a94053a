import { parseLocalTime } from './settings.js';

type Obj = Record<string, unknown>;

/**
 * When a job runs next, from its BackupScheduleModel, in the server's local
 * time (Veeam's `localTime` is the backup server's clock). Daily, monthly and
 * periodic runs are honoured; the earliest enabled one wins. `afterThisJob`
 * has no time of its own (it fires when the other job ends) and `retry` is
 * applied by the scheduler after a failed run. Backup windows are kept but
 * not enforced (a run is never cut off; see docs/jobs.md).
 */
const DAY_INDEX: Record<string, number> = { sunday: 0, monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6 };
const MONTH_INDEX: Record<string, number> = {
  January: 0,
  February: 1,
  March: 2,
  April: 3,
  May: 4,
  June: 5,
  July: 6,
  August: 7,
  September: 8,
  October: 9,
  November: 10,
  December: 11,
};
const ORDINAL: Record<string, number> = { First: 1, Second: 2, Third: 3, Fourth: 4 };
const PERIOD_MS: Record<string, number> = { Seconds: 1000, Minutes: 60_000, Hours: 3_600_000, Days: 86_400_000 };
const DEFAULT_TIME = '22:00';

function atTime(day: Date, time: { hours: number; minutes: number }): Date {
  return new Date(day.getFullYear(), day.getMonth(), day.getDate(), time.hours, time.minutes, 0, 0);
}

function nextDaily(daily: Obj, now: Date): Date | undefined {
  const time = parseLocalTime(daily.localTime ?? DEFAULT_TIME, 'schedule.daily.localTime');
  const kind = (daily.dailyKind as string | undefined) ?? 'Everyday';
  const days = new Set(
    kind === 'WeekDays' ? [1, 2, 3, 4, 5] : kind === 'SelectedDays' ? ((daily.days as string[] | undefined) ?? []).map((d) => DAY_INDEX[d.toLowerCase()]) : [0, 1, 2, 3, 4, 5, 6],
  );
  for (let i = 0; i <= 7; i++) {
    const candidate = atTime(new Date(now.getFullYear(), now.getMonth(), now.getDate() + i), time);
    if (candidate > now && days.has(candidate.getDay())) return candidate;
  }
  return undefined;
}

/** The day of `month` a monthly schedule names (e.g. the Fourth saturday, the Last friday, day 15), or undefined when the month lacks it. */
function monthlyDay(monthly: Obj, year: number, month: number): number | undefined {
  const last = new Date(year, month + 1, 0).getDate();
  const which = (monthly.dayNumberInMonth as string | undefined) ?? 'OnDay';
  if (which === 'OnDay') {
    const day = (monthly.dayOfMonth as number | undefined) ?? 1;
    return day <= last ? day : undefined;
  }
  const weekday = DAY_INDEX[((monthly.dayOfWeek as string | undefined) ?? 'saturday').toLowerCase()];
  if (which === 'Last') {
    const lastWeekday = new Date(year, month, last).getDay();
    return last - ((lastWeekday - weekday + 7) % 7);
  }
  const first = (weekday - new Date(year, month, 1).getDay() + 7) % 7;
  return 1 + first + 7 * (ORDINAL[which] - 1);
}

function nextMonthly(monthly: Obj, now: Date): Date | undefined {
  const time = parseLocalTime(monthly.localTime ?? DEFAULT_TIME, 'schedule.monthly.localTime');
  const months = new Set(((monthly.months as string[] | undefined) ?? Object.keys(MONTH_INDEX)).map((m) => MONTH_INDEX[m]));
  for (let i = 0; i <= 12 * 4; i++) {
    const year = now.getFullYear() + Math.floor((now.getMonth() + i) / 12);
    const month = (now.getMonth() + i) % 12;
    if (!months.has(month)) continue;
    const day = monthlyDay(monthly, year, month);
    if (day === undefined) continue;
    const candidate = atTime(new Date(year, month, day), time);
    if (candidate > now) return candidate;
  }
  return undefined;
}

/** Every `frequency` units, counted from local midnight (plus `startTimeWithinAnHour` minutes for hourly runs). */
function nextPeriodic(periodically: Obj, now: Date): Date | undefined {
  const unit = PERIOD_MS[(periodically.periodicallyKind as string | undefined) ?? 'Hours'];
  const period = unit * ((periodically.frequency as number | undefined) ?? 1);
  if (!(period > 0)) return undefined;
  const offsetMs = ((periodically.startTimeWithinAnHour as number | undefined) ?? 0) * 60_000;
  const base = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime() + offsetMs;
  const steps = Math.floor((now.getTime() - base) / period) + 1;
  return new Date(base + steps * period);
}

export function nextRunOf(schedule: Obj, now: Date): Date | undefined {
  if (schedule.runAutomatically !== true) return undefined;
  const enabled = (part: unknown): part is Obj => typeof part === 'object' && part !== null && (part as Obj).isEnabled === true;
  const candidates = [
    enabled(schedule.daily) ? nextDaily(schedule.daily, now) : undefined,
    enabled(schedule.monthly) ? nextMonthly(schedule.monthly, now) : undefined,
    enabled(schedule.periodically) ? nextPeriodic(schedule.periodically, now) : undefined,
  ].filter((d): d is Date => d !== undefined);
  if (candidates.length === 0) return undefined;
  return new Date(Math.min(...candidates.map((d) => d.getTime())));
}

/** The job that a schedule runs after (afterThisJob), when enabled and automatic. */
export function runsAfter(schedule: Obj): string | undefined {
  const after = schedule.afterThisJob as Obj | undefined;
  if (schedule.runAutomatically !== true || after?.isEnabled !== true) return undefined;
  return typeof after.jobName === 'string' ? after.jobName : undefined;
}

/** The retry policy after a failed automatic run: Veeam's default is 3 retries, 10 minutes apart. */
export function retryPolicy(schedule: Obj): { count: number; awaitMinutes: number } | undefined {
  const retry = schedule.retry as Obj | undefined;
  if (!retry || retry.isEnabled === false) return undefined;
  return { count: (retry.retryCount as number | undefined) ?? 3, awaitMinutes: (retry.awaitMinutes as number | undefined) ?? 10 };
}
