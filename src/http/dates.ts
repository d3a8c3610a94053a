/**
 * Backup & Replication dates are RFC 3339 with the server's UTC offset,
 * e.g. 2022-01-28T19:48:43.117+01:00, as Veeam's own server writes them.
 */
export function formatInstant(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') {
    // Stored instants repeat on every poll of a list; formatting them is the hot part.
    const known = formatted.get(value);
    if (known !== undefined) return known;
    const result = formatDate(new Date(value));
    if (formatted.size >= FORMAT_CACHE_LIMIT) formatted.clear();
    if (result !== null) formatted.set(value, result);
    return result;
  }
  return formatDate(value);
}

const FORMAT_CACHE_LIMIT = 50_000;
const formatted = new Map<string, string>();

function formatDate(date: Date): string | null {
  if (Number.isNaN(date.getTime())) return null;
  const offsetMinutes = -date.getTimezoneOffset();
  const local = new Date(date.getTime() + offsetMinutes * 60_000);
  const sign = offsetMinutes >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMinutes);
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return local.toISOString().replace('Z', offset);
}

/** Storage form: fixed-width UTC ISO text, so SQL compares and sorts it as text. */
export function toStoredInstant(date: Date = new Date()): string {
  return date.toISOString();
}

/** Backup for AWS token dates: exactly YYYY-MM-DDTHH:MM:SS (no fraction, no zone), in UTC. */
export function formatAwsTokenDate(date: Date): string {
  return date.toISOString().slice(0, 19);
}
