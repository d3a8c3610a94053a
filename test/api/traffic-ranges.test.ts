import { describe, expect, it } from 'vitest';
import { addressValue, isPublicAddress, parseRange, rangeHolds, windowCovers } from '../../src/api/traffic-rules/ranges.js';

describe('traffic rule ranges', () => {
  it('reads IPv4, IPv6 (compressed, embedded IPv4) and IPv4-mapped addresses', () => {
    expect(addressValue('10.0.0.1')).toEqual({ family: 4, value: 0x0a000001n });
    expect(addressValue('::ffff:10.0.0.1')).toEqual({ family: 4, value: 0x0a000001n });
    expect(addressValue('fd00::1')?.value).toBe((0xfd00n << 112n) | 1n);
    expect(addressValue('::')?.value).toBe(0n);
    expect(addressValue('64:ff9b::10.0.0.1')?.value).toBe((0x64n << 112n) | (0xff9bn << 96n) | 0x0a000001n);
    expect(addressValue('10.0.0.256')).toBeUndefined();
    expect(addressValue('host.example')).toBeUndefined();
  });

  it('holds the addresses of its range, of its family only', () => {
    const range = parseRange('192.168.1.10', '192.168.1.20', 'source');
    if (typeof range === 'string') throw new Error(range);
    expect(rangeHolds(range, '192.168.1.10')).toBe(true);
    expect(rangeHolds(range, '192.168.1.20')).toBe(true);
    expect(rangeHolds(range, '192.168.1.21')).toBe(false);
    expect(rangeHolds(range, '::ffff:192.168.1.15')).toBe(true);
    expect(rangeHolds(range, 'fd00::1')).toBe(false);
    const single = parseRange('fd00::5', '', 'target');
    if (typeof single === 'string') throw new Error(single);
    expect(rangeHolds(single, 'fd00::5')).toBe(true);
    expect(rangeHolds(single, 'fd00::6')).toBe(false);
  });

  it('knows the Internet from private, loopback and link-local addresses', () => {
    for (const a of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.0.1', '127.0.0.1', '169.254.1.1', '100.64.0.1', '::1', 'fd12::1', 'fe80::1'])
      expect(isPublicAddress(a), a).toBe(false);
    for (const a of ['8.8.8.8', '172.32.0.1', '2001:db8::1', '100.128.0.1']) expect(isPublicAddress(a), a).toBe(true);
    const internet = parseRange('Internet', '', 'target');
    expect(typeof internet !== 'string' && rangeHolds(internet, '1.1.1.1')).toBe(true);
    expect(parseRange('Internet', '', 'source')).toMatch(/target only/);
  });

  it('throttles in the hours its window marks, on the days it lists, in local time', () => {
    const at = new Date(2026, 10, 30, 14, 30); // a Monday, 14:30 local time
    const hours = (on: number[]) => Array.from({ length: 24 }, (_, h) => (on.includes(h) ? 1 : 0)).join(',');
    expect(windowCovers([{ day: 'monday', hours: hours([14]) }], at)).toBe(true);
    expect(windowCovers([{ day: 'Monday', hours: hours([13, 15]) }], at)).toBe(false);
    expect(windowCovers([{ day: 'tuesday', hours: hours([14]) }], at)).toBe(false);
  });
});
