import { isIP } from 'node:net';

/**
 * The address side of a traffic rule: a range of IPv4 or IPv6 addresses, `Any`, or
 * (target side only) `Internet`, which Veeam defines as every address outside the
 * private ones; and the hours a rule throttles in.
 */
export type AddressRange = { kind: 'any' } | { kind: 'internet' } | { kind: 'range'; family: 4 | 6; start: bigint; end: bigint };

/** An address as a number of its family (IPv4-mapped IPv6 counts as IPv4). */
export function addressValue(address: string): { family: 4 | 6; value: bigint } | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) address = mapped[1]!;
  const family = isIP(address);
  if (family === 4) return { family: 4, value: address.split('.').reduce((v, part) => (v << 8n) | BigInt(Number(part)), 0n) };
  if (family !== 6) return undefined;
  const [head, tail] = address.split('::') as [string, string | undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const left = groups(head);
  let right = groups(tail);
  // An embedded IPv4 tail (::ffff:1.2.3.4 forms other than the mapped one) counts as two groups.
  const last = right.length ? right[right.length - 1]! : left[left.length - 1];
  if (last?.includes('.')) {
    const v4 = addressValue(last)!.value;
    const parts = [(v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16)];
    if (right.length) right = [...right.slice(0, -1), ...parts];
    else left.splice(left.length - 1, 1, ...parts);
  }
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return { family: 6, value: all.reduce((v, g) => (v << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

const PRIVATE_V4: [string, string][] = [
  ['0.0.0.0', '0.255.255.255'],
  ['10.0.0.0', '10.255.255.255'],
  ['100.64.0.0', '100.127.255.255'],
  ['127.0.0.0', '127.255.255.255'],
  ['169.254.0.0', '169.254.255.255'],
  ['172.16.0.0', '172.31.255.255'],
  ['192.168.0.0', '192.168.255.255'],
];
const PRIVATE_V6: [string, string][] = [
  ['::', '::1'],
  ['fc00::', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ['fe80::', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
];

/** Loopback, link-local, RFC 1918, carrier-grade NAT and unique-local addresses are not the Internet. */
export function isPublicAddress(address: string): boolean {
  const a = addressValue(address);
  if (!a) return false;
  const ranges = a.family === 4 ? PRIVATE_V4 : PRIVATE_V6;
  return !ranges.some(([s, e]) => a.value >= addressValue(s)!.value && a.value <= addressValue(e)!.value);
}

/** A rule side as written, or the reason it is not one (the caller names the field). */
export function parseRange(start: string, end: string, side: 'source' | 'target'): AddressRange | string {
  const token = start.trim().toLowerCase();
  if (token === 'any' || token === 'internet') {
    if (token === 'internet' && side === 'source') return '`Internet` is a target only; use `Any` or an address range';
    if (end.trim() !== '' && end.trim().toLowerCase() !== token) return `must be empty when the start is \`${start.trim()}\``;
    return { kind: token };
  }
  const from = addressValue(start.trim());
  if (!from) return `"${start}" is not an IPv4 or IPv6 address`;
  const to = addressValue(end.trim() === '' ? start.trim() : end.trim());
  if (!to) return `"${end}" is not an IPv4 or IPv6 address`;
  if (to.family !== from.family) return 'start and end must be of the same address family';
  if (to.value < from.value) return `the end ${end} comes before the start ${start}`;
  return { kind: 'range', family: from.family, start: from.value, end: to.value };
}

export function rangeHolds(range: AddressRange, address: string): boolean {
  if (range.kind === 'any') return true;
  if (range.kind === 'internet') return isPublicAddress(address);
  const a = addressValue(address);
  return a !== undefined && a.family === range.family && a.value >= range.start && a.value <= range.end;
}

export const WEEK_DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

/** A day's hours string, or why it is not one. */
export function parseHours(hours: string): boolean[] | string {
  const parts = hours.split(',').map((h) => h.trim());
  if (parts.length !== 24 || parts.some((h) => h !== '0' && h !== '1')) return 'must be 24 comma-separated values, each 0 or 1';
  return parts.map((h) => h === '1');
}

/**
 * Whether a window covers `at`, in the server's local time (as Veeam's backup windows
 * are): a day the window does not list has no throttling hours.
 */
export function windowCovers(days: { day: string; hours: string }[], at: Date): boolean {
  const today = WEEK_DAYS[at.getDay()];
  const entry = days.find((d) => d.day.toLowerCase() === today);
  if (!entry) return false;
  const hours = parseHours(entry.hours);
  return typeof hours !== 'string' && hours[at.getHours()] === true;
}
