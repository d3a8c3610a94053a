import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { immutableDaysOf } from '../../src/api/repositories/hardened.js';

describe('RAMPART_TEST_IMMUTABILITY_SECONDS: a test-only shortening of the immutability period', () => {
  const base = { RAMPART_DATA_DIR: '/tmp/rampart-config-check' };

  it('is refused unless NODE_ENV is "test", naming the setting', () => {
    for (const mode of ['production', 'development', '']) {
      expect(() => loadConfig({ ...base, NODE_ENV: mode, RAMPART_TEST_IMMUTABILITY_SECONDS: '30' })).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, NODE_ENV: mode, RAMPART_TEST_IMMUTABILITY_SECONDS: '30' })).toThrow(/RAMPART_TEST_IMMUTABILITY_SECONDS: a test-only setting/);
    }
    expect(loadConfig({ ...base, NODE_ENV: 'production' }).testImmutabilitySeconds).toBeUndefined();
  });

  it("in test mode replaces the repositories' days with seconds, for both kinds; bounds checked", () => {
    const config = loadConfig({ ...base, NODE_ENV: 'test', RAMPART_TEST_IMMUTABILITY_SECONDS: '30' });
    expect(config.testImmutabilitySeconds).toBe(30);
    expect(() => loadConfig({ ...base, NODE_ENV: 'test', RAMPART_TEST_IMMUTABILITY_SECONDS: '0' })).toThrow(/out of range/);
    const hardened = { repository: { path: '/r', makeRecentBackupsImmutableDays: 7 } };
    const locked = { bucket: { immutability: { isEnabled: true, daysCount: 30 } } };
    expect(immutableDaysOf('LinuxHardened', hardened)).toBe(7);
    expect(immutableDaysOf('S3Compatible', locked)).toBe(30);
    expect(immutableDaysOf('LinuxHardened', hardened, 30)! * 86_400).toBeCloseTo(30);
    expect(immutableDaysOf('S3Compatible', { bucket: { immutability: { isEnabled: false, daysCount: 30 } } }, 30)).toBeUndefined();
    expect(immutableDaysOf('S3Compatible', { bucket: {} })).toBeUndefined();
  });
});
