import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';

/** How to reach the SMTP server, as the general options name it (the password opened from the vault). */
export interface SmtpSettings {
  host: string;
  port: number;
  timeoutMs: number;
  /** Veeam's `SSLEnabled`: TLS from the first byte on port 465, otherwise STARTTLS is required. */
  secure: boolean;
  auth?: { user: string; pass: string };
  from: string;
  /** Veeam's `to`: addresses separated by semicolons (commas accepted too). */
  to: string;
}

export interface MailMessage {
  subject: string;
  text: string;
}

/** Recipient addresses from Veeam's semicolon-separated `to`. */
export function recipientsOf(to: string): string[] {
  return to
    .split(/[;,]/)
    .map((a) => a.trim())
    .filter((a) => a.length > 0);
}

/**
 * Sends one message over SMTP. With `secure` off the connection stays plain even when the
 * server offers STARTTLS, as the setting says; with it on, port 465 speaks TLS at once and
 * any other port must upgrade with STARTTLS or the message is not sent (no silent downgrade).
 * `caFile` adds trusted roots for a server whose certificate a private CA issued.
 */
export async function sendMail(settings: SmtpSettings, message: MailMessage, caFile?: string): Promise<void> {
  const implicitTls = settings.secure && settings.port === 465;
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: implicitTls,
    requireTLS: settings.secure && !implicitTls,
    ignoreTLS: !settings.secure,
    connectionTimeout: settings.timeoutMs,
    greetingTimeout: settings.timeoutMs,
    socketTimeout: settings.timeoutMs,
    ...(settings.auth ? { auth: settings.auth } : {}),
    tls: caFile ? { ca: readFileSync(caFile) } : {},
    // nodemailer logs nothing unless asked; the password must never reach a log either way.
    logger: false,
  });
  try {
    await transport.sendMail({ from: settings.from, to: recipientsOf(settings.to), subject: message.subject, text: message.text });
  } finally {
    transport.close();
  }
}
