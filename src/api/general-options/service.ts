import type { Logger } from 'pino';
import { badRequest } from '../../http/errors.js';
import type { Store } from '../../store/database.js';
import { readSetting } from '../../store/settings.js';
import { recipientsOf, sendMail, type MailMessage, type SmtpSettings } from '../../notifications/mail.js';
import { CREDENTIALS_KIND, type CredentialsService } from '../credentials/service.js';
import type { ReferenceRegistry } from '../../store/references.js';
import type { GeneralOptions, GeneralOptionsSpec } from './schemas.js';

const SETTING_KEY = 'generalOptions';

/** Veeam's out-of-the-box values (the GET example of 1.1-rev0). */
export function defaultGeneralOptions(): GeneralOptions {
  return {
    notificationEnabled: false,
    emailSettings: {
      smtpServerName: '',
      advancedSmtpOptions: { port: 25, timeoutMs: 100_000, SSLEnabled: false, authRequired: false },
      from: '',
      to: '',
      subject: '[%JobResult%] %JobName% (%ObjectCount% objects) %Issues%',
      sendDailyReportsAt: '2019-01-01T22:00:00+00:00',
      notifyOnSuccess: true,
      notifyOnWarning: true,
      notifyOnFailure: true,
      notifyOnLastRetry: true,
    },
    notifications: {
      storageSpaceThresholdEnabled: true,
      storageSpaceThreshold: 10,
      datastoreSpaceThresholdEnabled: true,
      datastoreSpaceThreshold: 10,
      skipVMSpaceThresholdEnabled: true,
      skipVMSpaceThreshold: 5,
      notifyOnSupportExpiration: true,
      notifyOnUpdates: true,
    },
    siemIntegration: { SNMPEventsEnabled: false, SyslogEventsEnabled: false },
  };
}

const ADDRESS = /^[^\s@;,<>]+@[^\s@;,<>]+$/;

export interface GeneralOptionsDeps {
  store: Store;
  credentials: CredentialsService;
  references: ReferenceRegistry;
  logger: Logger;
  /** Extra trusted roots for the SMTP server's certificate (RAMPART_SMTP_CA_FILE). */
  smtpCaFile?: string;
}

/** The general options (one settings row) and the sending of email with them. */
export class GeneralOptionsService {
  constructor(private readonly deps: GeneralOptionsDeps) {
    // The SMTP account cannot be removed while the email settings name it.
    deps.references.register(CREDENTIALS_KIND, async (db, id) => {
      const stored = await readSetting(db, SETTING_KEY);
      const options = stored ? (JSON.parse(stored) as Partial<GeneralOptions>) : undefined;
      return options?.emailSettings?.advancedSmtpOptions.credentialsId === id ? [{ kind: 'general options (email settings)', id: 'generalOptions', name: 'SMTP server' }] : [];
    });
  }

  async get(): Promise<GeneralOptions> {
    const stored = await readSetting(this.deps.store.db, SETTING_KEY);
    if (!stored) return defaultGeneralOptions();
    const defaults = defaultGeneralOptions();
    const saved = JSON.parse(stored) as Partial<GeneralOptions>;
    return {
      ...defaults,
      ...saved,
      notifications: { ...defaults.notifications, ...saved.notifications },
    };
  }

  /** Replaces the options; checked whole before anything is written. */
  async update(spec: GeneralOptionsSpec): Promise<GeneralOptions> {
    const current = await this.get();
    const next: GeneralOptions = { ...current };
    if (spec.emailSettings) {
      const { isEnabled, ...email } = spec.emailSettings;
      next.emailSettings = { ...email, advancedSmtpOptions: { ...email.advancedSmtpOptions } };
      if (next.emailSettings.advancedSmtpOptions.credentialsId === null) delete next.emailSettings.advancedSmtpOptions.credentialsId;
      if (isEnabled !== undefined) next.notificationEnabled = isEnabled;
    }
    if (spec.notificationEnabled !== undefined) next.notificationEnabled = spec.notificationEnabled;
    if (spec.notifications) next.notifications = { ...current.notifications, ...spec.notifications };
    if (spec.siemIntegration) next.siemIntegration = spec.siemIntegration;
    await this.check(next);
    const value = JSON.stringify(next);
    await this.deps.store.db
      .insertInto('settings')
      .values({ key: SETTING_KEY, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
    return next;
  }

  private async check(options: GeneralOptions): Promise<void> {
    const email = options.emailSettings;
    const smtp = email.advancedSmtpOptions;
    if (smtp.authRequired) {
      if (!smtp.credentialsId) throw badRequest('emailSettings.advancedSmtpOptions.credentialsId: required when authRequired is true.');
      // Throws the credentials section's own 404 when the record is gone.
      await this.deps.credentials.get(smtp.credentialsId).catch(() => {
        throw badRequest(`emailSettings.advancedSmtpOptions.credentialsId: no credentials record ${smtp.credentialsId}.`, smtp.credentialsId ?? undefined);
      });
    }
    if (!options.notificationEnabled) return;
    if (email.smtpServerName.trim() === '') throw badRequest('emailSettings.smtpServerName: required when email notifications are enabled.');
    if (!ADDRESS.test(email.from.trim())) throw badRequest('emailSettings.from: must be one email address when email notifications are enabled.');
    const recipients = recipientsOf(email.to);
    if (recipients.length === 0 || recipients.some((a) => !ADDRESS.test(a))) {
      throw badRequest('emailSettings.to: must be one or more email addresses separated by semicolons when email notifications are enabled.');
    }
  }

  /** The SMTP settings with the password opened from the vault (never for a reply or a log). */
  private async smtpSettings(options: GeneralOptions): Promise<SmtpSettings> {
    const email = options.emailSettings;
    const smtp = email.advancedSmtpOptions;
    let auth: SmtpSettings['auth'];
    if (smtp.authRequired && smtp.credentialsId) {
      const record = await this.deps.credentials.get(smtp.credentialsId);
      const secrets = await this.deps.credentials.secretsFor(smtp.credentialsId);
      auth = { user: record.username, pass: secrets.password ?? '' };
    }
    return { host: email.smtpServerName, port: smtp.port, timeoutMs: smtp.timeoutMs, secure: smtp.SSLEnabled, auth, from: email.from, to: email.to };
  }

  /** Sends a test message with the stored settings; SMTP failures come back as a 400 naming the server. */
  async sendTestMessage(): Promise<void> {
    const options = await this.get();
    if (options.emailSettings.smtpServerName.trim() === '' || recipientsOf(options.emailSettings.to).length === 0) {
      throw badRequest('emailSettings: set smtpServerName, from and to before sending a test message.');
    }
    try {
      await sendMail(
        await this.smtpSettings(options),
        { subject: 'Rampart test message', text: 'This is a test message from Rampart: email notifications reach this address.' },
        this.deps.smtpCaFile,
      );
    } catch (err) {
      throw badRequest(`The SMTP server ${options.emailSettings.smtpServerName}:${options.emailSettings.advancedSmtpOptions.port} did not take the message: ${smtpError(err)}`);
    }
  }

  /**
   * Sends a notification when email notifications are on; `wanted` picks the options that
   * allow this kind. Never throws: a notification that cannot be sent is logged (without
   * the password, which nodemailer's errors do not carry) and dropped.
   */
  async notify(wanted: (options: GeneralOptions) => boolean, message: (options: GeneralOptions) => MailMessage): Promise<boolean> {
    try {
      const options = await this.get();
      if (!options.notificationEnabled || !wanted(options)) return false;
      await sendMail(await this.smtpSettings(options), message(options), this.deps.smtpCaFile);
      return true;
    } catch (err) {
      this.deps.logger.warn({ err: smtpError(err) }, 'an email notification could not be sent');
      return false;
    }
  }
}

function smtpError(err: unknown): string {
  const e = err as { code?: string; responseCode?: number; message?: string };
  return e.responseCode ? `${e.responseCode} ${e.message ?? ''}`.trim() : (e.message ?? String(err));
}
