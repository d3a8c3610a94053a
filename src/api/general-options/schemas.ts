import { Type, type Static } from 'typebox';

/** AdvancedSmtpOptionsModel (1.1-rev0 on; 1.3-rev2's `thumbprints` not kept). */
export const AdvancedSmtpOptions = Type.Object({
  port: Type.Integer({ minimum: 1, maximum: 65_535 }),
  timeoutMs: Type.Integer({ minimum: 1, maximum: 3_600_000 }),
  SSLEnabled: Type.Boolean({ description: 'TLS on port 465, otherwise STARTTLS required.' }),
  authRequired: Type.Boolean(),
  credentialsId: Type.Optional(Type.Union([Type.String({ format: 'uuid' }), Type.Null()])),
});

/** GeneralOptionsEmailNotificationsModel; `isEnabled` is 1.1/1.2 (1.3 moved it to `notificationEnabled`). */
export const EmailSettings = Type.Object({
  isEnabled: Type.Optional(Type.Boolean()),
  smtpServerName: Type.String({ maxLength: 255 }),
  advancedSmtpOptions: AdvancedSmtpOptions,
  from: Type.String({ maxLength: 320 }),
  to: Type.String({ maxLength: 4096 }),
  subject: Type.String({ maxLength: 1024 }),
  sendDailyReportsAt: Type.String({ format: 'date-time' }),
  notifyOnSuccess: Type.Boolean(),
  notifyOnWarning: Type.Boolean(),
  notifyOnFailure: Type.Boolean(),
  notifyOnLastRetry: Type.Boolean(),
});

const Percent = Type.Integer({ minimum: 0, maximum: 100 });

/** GeneralOptionsNotificationsModel (1.3 makes the thresholds optional; Rampart always has them). */
export const Notifications = Type.Object({
  storageSpaceThresholdEnabled: Type.Boolean(),
  storageSpaceThreshold: Type.Optional(Percent),
  datastoreSpaceThresholdEnabled: Type.Boolean(),
  datastoreSpaceThreshold: Type.Optional(Percent),
  skipVMSpaceThresholdEnabled: Type.Boolean(),
  skipVMSpaceThreshold: Type.Optional(Percent),
  notifyOnSupportExpiration: Type.Boolean(),
  notifyOnUpdates: Type.Boolean(),
});

/** GeneralOptionsSiemIntegrationModel (1.2-rev1 on): stored, not yet sent anywhere. */
export const SiemIntegration = Type.Object({
  SNMPEventsEnabled: Type.Boolean(),
  SNMPServers: Type.Optional(
    Type.Array(Type.Object({ receiver: Type.String({ maxLength: 255 }), port: Type.Integer({ minimum: 1, maximum: 65_535 }), communityString: Type.String({ maxLength: 255 }) }), {
      maxItems: 5,
    }),
  ),
  SyslogEventsEnabled: Type.Boolean(),
  SyslogServer: Type.Optional(
    Type.Object({
      serverName: Type.String({ maxLength: 255 }),
      port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535 })),
      transportProtocol: Type.Optional(Type.Union([Type.Literal('Udp'), Type.Literal('Tcp'), Type.Literal('Tls')])),
      certificateThumbprint: Type.Optional(Type.String({ maxLength: 128 })),
    }),
  ),
  syslogEventFiltering: Type.Optional(
    Type.Array(
      Type.Object({
        eventId: Type.String({ maxLength: 64 }),
        severity: Type.Array(Type.Union([Type.Literal('Info'), Type.Literal('Warning'), Type.Literal('Error')]), { maxItems: 3 }),
      }),
      {
        maxItems: 1000,
      },
    ),
  ),
});

/**
 * GeneralOptionsModel in every document's spelling at once: a PUT may come in the 1.1/1.2
 * form (`emailSettings.isEnabled`) or the 1.3 one (`notificationEnabled`); a part left out
 * keeps its stored value.
 */
export const GeneralOptionsSpec = Type.Object({
  notificationEnabled: Type.Optional(Type.Boolean()),
  emailSettings: Type.Optional(EmailSettings),
  notifications: Type.Optional(Notifications),
  siemIntegration: Type.Optional(SiemIntegration),
});

/** The reply before shaping: both spellings of the switch; revisions/replies drops the other one. */
export const GeneralOptionsModel = Type.Object({
  notificationEnabled: Type.Optional(Type.Boolean()),
  emailSettings: EmailSettings,
  notifications: Notifications,
  siemIntegration: Type.Optional(SiemIntegration),
});

export type GeneralOptionsSpec = Static<typeof GeneralOptionsSpec>;
export type EmailSettings = Static<typeof EmailSettings>;
export type NotificationsSettings = Static<typeof Notifications>;
export type SiemIntegration = Static<typeof SiemIntegration>;

/** What is stored (one settings row): the 1.3 form, `isEnabled` folded into `notificationEnabled`. */
export interface GeneralOptions {
  notificationEnabled: boolean;
  emailSettings: Omit<EmailSettings, 'isEnabled'>;
  notifications: Required<NotificationsSettings>;
  siemIntegration: SiemIntegration;
}
