import { randomUUID } from 'node:crypto';
import { badRequest } from '../../http/errors.js';
import type { Store } from '../../store/database.js';
import { readSetting } from '../../store/settings.js';
import { addressValue, parseHours, parseRange, rangeHolds, WEEK_DAYS, windowCovers } from './ranges.js';
import type { SpeedUnit, TrafficRule, TrafficRules, TrafficRulesSpec } from './schemas.js';

const SETTING_KEY = 'trafficRules';

/** The rule a fresh Veeam server has (and Rampart too): traffic to the Internet is encrypted, not throttled. */
const INTERNET_RULE_ID = 'b7e3c1f0-5a2d-4c8e-9f61-3d2a7e0c4b19';

export function defaultTrafficRules(): TrafficRules {
  return {
    useMultipleStreamsPerJob: true,
    uploadStreamsCount: 5,
    trafficRules: [
      {
        id: INTERNET_RULE_ID,
        name: 'Internet',
        sourceIPStart: 'Any',
        sourceIPEnd: '',
        targetIPStart: 'Internet',
        targetIPEnd: '',
        encryptionEnabled: true,
        throttlingEnabled: false,
        throttlingUnit: 'MbitPerSpec',
        throttlingValue: 1,
        throttlingWindowEnabled: false,
      },
    ],
    preferredNetworks: { isEnabled: false, networks: [] },
  };
}

/** KB and MB are binary (1024), as in Veeam's console; a megabit is 10^6 bits. */
const BYTES_PER_SECOND: Record<SpeedUnit, number> = { KbytePerSec: 1024, MbitPerSpec: 1_000_000 / 8, MbytePerSec: 1024 * 1024 };
const UNIT_LABEL: Record<SpeedUnit, string> = { KbytePerSec: 'KB/s', MbitPerSpec: 'Mbit/s', MbytePerSec: 'MB/s' };

/** A throttling rule that applies to one transfer now. */
export interface ApplicableThrottle {
  ruleId: string;
  ruleName: string;
  bytesPerSecond: number;
  /** "8 MB/s" as the rule says it. */
  limit: string;
}

/** The global traffic rules (one settings row) and which of them applies to a transfer. */
export class TrafficRulesService {
  constructor(private readonly deps: { store: Store }) {}

  async get(): Promise<TrafficRules> {
    const stored = await readSetting(this.deps.store.db, SETTING_KEY);
    return stored ? (JSON.parse(stored) as TrafficRules) : defaultTrafficRules();
  }

  /** Replaces the options; every rule is checked before anything is written. */
  async update(spec: TrafficRulesSpec): Promise<TrafficRules> {
    const current = await this.get();
    const next: TrafficRules = {
      useMultipleStreamsPerJob: spec.useMultipleStreamsPerJob,
      ...((spec.uploadStreamsCount ?? current.uploadStreamsCount) !== undefined ? { uploadStreamsCount: spec.uploadStreamsCount ?? current.uploadStreamsCount } : {}),
      trafficRules: spec.trafficRules ? spec.trafficRules.map((rule, i) => normalizeRule(rule, i)) : current.trafficRules,
      preferredNetworks: spec.preferredNetworks ? checkPreferredNetworks(spec.preferredNetworks) : current.preferredNetworks,
    };
    const names = new Set<string>();
    const ids = new Set<string>();
    for (const [i, rule] of next.trafficRules.entries()) {
      const key = rule.name.trim().toLowerCase();
      if (names.has(key)) throw badRequest(`trafficRules[${i}].name: another rule is already named "${rule.name}".`);
      if (ids.has(rule.id)) throw badRequest(`trafficRules[${i}].id: another rule has the id ${rule.id}.`, rule.id);
      names.add(key);
      ids.add(rule.id);
    }
    const value = JSON.stringify(next);
    await this.deps.store.db
      .insertInto('settings')
      .values({ key: SETTING_KEY, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
    return next;
  }

  /** Whether any rule throttles at all (runs then need not resolve the ends of their transfers). */
  async anyThrottling(): Promise<boolean> {
    return (await this.get()).trafficRules.some((rule) => rule.throttlingEnabled === true);
  }

  /**
   * The throttling rule for data moving from `source` to `target` (IP addresses) at
   * `at`: among the rules whose ranges hold both ends and whose window is open, the one
   * with the lowest speed (Veeam applies the most restrictive of overlapping rules).
   * `'any time'` leaves the windows out: whether a rule can apply to these ends at all.
   */
  async throttleFor(source: string, target: string, at: Date | 'any time'): Promise<ApplicableThrottle | undefined> {
    let best: ApplicableThrottle | undefined;
    for (const rule of (await this.get()).trafficRules) {
      if (!rule.throttlingEnabled || !rule.throttlingValue || !rule.throttlingUnit) continue;
      const from = parseRange(rule.sourceIPStart, rule.sourceIPEnd, 'source');
      const to = parseRange(rule.targetIPStart, rule.targetIPEnd, 'target');
      if (typeof from === 'string' || typeof to === 'string' || !rangeHolds(from, source) || !rangeHolds(to, target)) continue;
      if (at !== 'any time' && rule.throttlingWindowEnabled && !windowCovers(rule.throttlingWindowOptions?.days ?? [], at)) continue;
      const bytesPerSecond = rule.throttlingValue * BYTES_PER_SECOND[rule.throttlingUnit];
      if (!best || bytesPerSecond < best.bytesPerSecond) {
        best = { ruleId: rule.id, ruleName: rule.name, bytesPerSecond, limit: `${rule.throttlingValue} ${UNIT_LABEL[rule.throttlingUnit]}` };
      }
    }
    return best;
  }
}

/** One rule checked and in stored form: an id, canonical tokens, lower-case days. */
function normalizeRule(rule: TrafficRule, i: number): TrafficRule & { id: string } {
  const at = `trafficRules[${i}]`;
  if (rule.name.trim() === '') throw badRequest(`${at}.name: must not be empty.`);
  for (const side of ['source', 'target'] as const) {
    const start = rule[`${side}IPStart`];
    const end = rule[`${side}IPEnd`];
    const parsed = parseRange(start, end, side);
    if (typeof parsed === 'string') {
      const field = addressValue(start.trim()) || /^(any|internet)$/i.test(start.trim()) ? `${side}IPEnd` : `${side}IPStart`;
      throw badRequest(`${at}.${field}: ${parsed}.`);
    }
  }
  const canonical = (v: string) => (/^any$/i.test(v.trim()) ? 'Any' : /^internet$/i.test(v.trim()) ? 'Internet' : v.trim());
  const out: TrafficRule & { id: string } = {
    ...rule,
    id: rule.id ?? randomUUID(),
    name: rule.name.trim(),
    sourceIPStart: canonical(rule.sourceIPStart),
    sourceIPEnd: rule.sourceIPEnd.trim(),
    targetIPStart: canonical(rule.targetIPStart),
    targetIPEnd: rule.targetIPEnd.trim(),
  };
  if (rule.throttlingEnabled) {
    if (rule.throttlingValue === undefined) throw badRequest(`${at}.throttlingValue: required (a speed above 0) when throttlingEnabled is true.`);
    if (rule.throttlingUnit === undefined) throw badRequest(`${at}.throttlingUnit: required (KbytePerSec, MbitPerSpec or MbytePerSec) when throttlingEnabled is true.`);
  }
  if (rule.throttlingWindowEnabled && !rule.throttlingWindowOptions) throw badRequest(`${at}.throttlingWindowOptions: required when throttlingWindowEnabled is true.`);
  if (rule.throttlingWindowOptions) {
    const seen = new Set<string>();
    out.throttlingWindowOptions = {
      days: rule.throttlingWindowOptions.days.map((d, n) => {
        const day = d.day.toLowerCase();
        if (!(WEEK_DAYS as readonly string[]).includes(day)) throw badRequest(`${at}.throttlingWindowOptions.days[${n}].day: "${d.day}" is not a day of the week.`);
        if (seen.has(day)) throw badRequest(`${at}.throttlingWindowOptions.days[${n}].day: ${d.day} is listed twice.`);
        seen.add(day);
        const hours = parseHours(d.hours);
        if (typeof hours === 'string') throw badRequest(`${at}.throttlingWindowOptions.days[${n}].hours: ${hours}.`);
        return { day, hours: hours.map((h) => (h ? '1' : '0')).join(',') };
      }),
    };
  }
  return out;
}

/** Preferred networks: each an IPv4 network by mask or prefix length (the two must agree when both are given). */
function checkPreferredNetworks(value: TrafficRulesSpec['preferredNetworks'] & object): TrafficRules['preferredNetworks'] {
  const networks = (value.networks ?? []).map((n, i) => {
    const at = `preferredNetworks.networks[${i}]`;
    const address = n.ipAddress?.trim() ?? '';
    if (addressValue(address)?.family !== 4) throw badRequest(`${at}.ipAddress: "${n.ipAddress ?? ''}" is not an IPv4 address.`);
    let prefix: number | undefined;
    if (n.cidrNotation !== undefined && n.cidrNotation.trim() !== '') {
      const text = n.cidrNotation.trim().replace(/^\//, '');
      prefix = /^\d{1,2}$/.test(text) ? Number(text) : NaN;
      if (!(prefix >= 0 && prefix <= 32)) throw badRequest(`${at}.cidrNotation: "${n.cidrNotation}" is not a prefix length from 0 to 32.`);
    }
    if (n.subnetMask !== undefined && n.subnetMask.trim() !== '') {
      const mask = addressValue(n.subnetMask.trim());
      const bits = mask?.family === 4 ? mask.value.toString(2).padStart(32, '0') : '';
      if (!/^1*0*$/.test(bits) || bits === '') throw badRequest(`${at}.subnetMask: "${n.subnetMask}" is not an IPv4 subnet mask.`);
      const maskPrefix = bits.indexOf('0') === -1 ? 32 : bits.indexOf('0');
      if (prefix !== undefined && prefix !== maskPrefix) throw badRequest(`${at}.cidrNotation: /${prefix} does not match the subnet mask ${n.subnetMask}.`);
      prefix = maskPrefix;
    }
    if (prefix === undefined) throw badRequest(`${at}.subnetMask: a subnet mask or cidrNotation is required.`);
    const mask = prefix === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - prefix)) - 1n);
    const maskText = [24n, 16n, 8n, 0n].map((s) => String((mask >> s) & 255n)).join('.');
    return { ipAddress: address, subnetMask: maskText, cidrNotation: String(prefix) };
  });
  return { isEnabled: value.isEnabled, networks };
}
