import { Type, type Static } from 'typebox';

/**
 * GlobalNetworkTrafficRulesModel: the same fields in 1.1-rev0, 1.2-rev1 and every 1.3
 * document; only EDayOfWeek's spelling changes (lower case up to 1.3-rev0, capitalised
 * from 1.3-rev1: revisions/replies/traffic-rules.ts). Values are checked by the service,
 * so a 400 names the rule and field with the reason, not a schema path.
 */

/** ESpeedUnit ('MbitPerSpec' is Veeam's own spelling). */
export type SpeedUnit = 'KbytePerSec' | 'MbitPerSpec' | 'MbytePerSec';

/** BackupWindowDayHoursModel; `day` in either document's spelling. */
const WindowDay = Type.Object({
  day: Type.String({ maxLength: 16 }),
  hours: Type.String({ maxLength: 128, description: '24 comma-separated hours, 1 = the rule throttles in that hour, 0 = it does not.' }),
});

export const TrafficRule = Type.Object({
  id: Type.Optional(Type.String({ format: 'uuid' })),
  name: Type.String({ maxLength: 255 }),
  sourceIPStart: Type.String({ maxLength: 64, description: 'An IPv4/IPv6 address, or `Any`.' }),
  sourceIPEnd: Type.String({ maxLength: 64, description: 'The end of the range; empty with `Any`.' }),
  targetIPStart: Type.String({ maxLength: 64, description: 'An IPv4/IPv6 address, `Any`, or `Internet` (every public address).' }),
  targetIPEnd: Type.String({ maxLength: 64, description: 'The end of the range; empty with `Any` or `Internet`.' }),
  encryptionEnabled: Type.Optional(Type.Boolean({ description: 'Rampart moves data over TLS or SSH only: its traffic is always encrypted.' })),
  throttlingEnabled: Type.Optional(Type.Boolean()),
  throttlingUnit: Type.Optional(Type.Union([Type.Literal('KbytePerSec'), Type.Literal('MbitPerSpec'), Type.Literal('MbytePerSec')])),
  throttlingValue: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
  throttlingWindowEnabled: Type.Optional(Type.Boolean()),
  throttlingWindowOptions: Type.Optional(Type.Object({ days: Type.Array(WindowDay, { maxItems: 7 }) })),
});

const PreferredNetwork = Type.Object({
  ipAddress: Type.Optional(Type.String({ maxLength: 64 })),
  subnetMask: Type.Optional(Type.String({ maxLength: 64 })),
  cidrNotation: Type.Optional(Type.String({ maxLength: 8 })),
});

export const PreferredNetworks = Type.Object({
  isEnabled: Type.Boolean(),
  networks: Type.Optional(Type.Array(PreferredNetwork, { maxItems: 256 })),
});

/** The PUT body: `trafficRules` and `preferredNetworks` left out keep their stored values. */
export const TrafficRulesSpec = Type.Object({
  useMultipleStreamsPerJob: Type.Boolean(),
  uploadStreamsCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  trafficRules: Type.Optional(Type.Array(TrafficRule, { maxItems: 1000 })),
  preferredNetworks: Type.Optional(PreferredNetworks),
});

export const TrafficRulesModel = Type.Object({
  useMultipleStreamsPerJob: Type.Boolean(),
  uploadStreamsCount: Type.Optional(Type.Integer()),
  trafficRules: Type.Array(TrafficRule),
  preferredNetworks: PreferredNetworks,
});

export type TrafficRule = Static<typeof TrafficRule>;
export type TrafficRulesSpec = Static<typeof TrafficRulesSpec>;
export type PreferredNetworks = Static<typeof PreferredNetworks>;
/** What is stored (one settings row) and answered: every rule has its id. */
export interface TrafficRules {
  useMultipleStreamsPerJob: boolean;
  uploadStreamsCount?: number;
  trafficRules: (TrafficRule & { id: string })[];
  preferredNetworks: PreferredNetworks;
}
