import { Type, type Static } from 'typebox';

const DAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
/** EDayOfWeek in either document's spelling (1.3-rev1 capitalises it); stored in lower case. */
const Day = Type.Union([...DAY_NAMES, ...DAY_NAMES.map((d) => d.charAt(0).toUpperCase() + d.slice(1))].map((d) => Type.Literal(d)));

/** ConfigBackupModel (the same in 1.1-rev0, 1.2-rev1 and 1.3). */
export const ConfigBackupModel = Type.Object({
  isEnabled: Type.Boolean(),
  backupRepositoryId: Type.String({ format: 'uuid' }),
  restorePointsToKeep: Type.Integer({ minimum: 1, maximum: 999 }),
  notifications: Type.Object({
    SNMPEnabled: Type.Boolean(),
    SMTPSettings: Type.Optional(
      Type.Object({
        isEnabled: Type.Boolean(),
        recipients: Type.Array(Type.String({ maxLength: 320 }), { maxItems: 100 }),
        settingsType: Type.Union([Type.Literal('Global'), Type.Literal('Custom')]),
        subject: Type.String({ maxLength: 1024 }),
        notifyOnSuccess: Type.Boolean(),
        notifyOnWarning: Type.Boolean(),
        notifyOnError: Type.Boolean(),
      }),
    ),
  }),
  schedule: Type.Object({
    isEnabled: Type.Boolean(),
    daily: Type.Optional(
      Type.Object({
        isEnabled: Type.Boolean(),
        localTime: Type.Optional(Type.String({ pattern: '^\\d{2}:\\d{2}(:\\d{2})?$' })),
        dailyKind: Type.Optional(Type.Union([Type.Literal('Everyday'), Type.Literal('WeekDays'), Type.Literal('SelectedDays')])),
        days: Type.Optional(Type.Array(Day, { uniqueItems: true })),
      }),
    ),
    monthly: Type.Optional(Type.Object({}, { additionalProperties: true })),
  }),
  lastSuccessfulBackup: Type.Object({ lastSuccessfulTime: Type.Optional(Type.String()), sessionId: Type.Optional(Type.String()) }),
  encryption: Type.Object({ isEnabled: Type.Boolean(), passwordId: Type.Optional(Type.Union([Type.String({ format: 'uuid' }), Type.Null()])) }),
});
/** Veeam's document requires encryption.passwordId; with no password chosen a reply carries the empty GUID (Veeam's "none"). */
export const NO_PASSWORD_ID = '00000000-0000-0000-0000-000000000000';

export type ConfigBackupSettings = Static<typeof ConfigBackupModel>;
