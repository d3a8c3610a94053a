import type { VNode } from 'preact';
import { get, post, put, type Page } from '../api.js';
import { useRef, useState } from 'preact/hooks';
import { h, toast } from '../dom.js';
import { Loaded } from '../hooks.js';
import { pageHeader } from '../crud.js';
import { formView, num, text, type FormHandle, type Values } from '../forms.js';
import type { Credentials } from './credentials.js';

interface EmailSettings {
  isEnabled?: boolean;
  smtpServerName: string;
  advancedSmtpOptions: { port: number; timeoutMs: number; SSLEnabled: boolean; authRequired: boolean; credentialsId?: string | null };
  from: string;
  to: string;
  subject: string;
  sendDailyReportsAt: string;
  notifyOnSuccess: boolean;
  notifyOnWarning: boolean;
  notifyOnFailure: boolean;
  notifyOnLastRetry: boolean;
}

interface GeneralOptions {
  emailSettings: EmailSettings;
}

const URL = '/api/v1/generalOptions';
/** The test message exists from 1.3-rev2 on; the console reads and writes the settings in its usual revision. */
const TEST_MESSAGE_VERSION = '1.3-rev2';

function emailSettingsOf(v: Values, stored: EmailSettings): EmailSettings {
  const authRequired = Boolean(v['advancedSmtpOptions.authRequired']);
  return {
    ...stored,
    isEnabled: Boolean(v.isEnabled),
    smtpServerName: text(v, 'smtpServerName'),
    advancedSmtpOptions: {
      ...stored.advancedSmtpOptions,
      port: num(v, 'advancedSmtpOptions.port') ?? 25,
      SSLEnabled: Boolean(v['advancedSmtpOptions.SSLEnabled']),
      authRequired,
      credentialsId: authRequired ? text(v, 'advancedSmtpOptions.credentialsId') || null : null,
    },
    from: text(v, 'from'),
    to: text(v, 'to'),
    subject: text(v, 'subject'),
    notifyOnSuccess: Boolean(v.notifyOnSuccess),
    notifyOnWarning: Boolean(v.notifyOnWarning),
    notifyOnFailure: Boolean(v.notifyOnFailure),
    notifyOnLastRetry: Boolean(v.notifyOnLastRetry),
  };
}

/** Email notifications: the SMTP server, who gets what, and a test message through the saved settings. */
export function GeneralOptionsPage(): VNode {
  return h(Loaded<[GeneralOptions, Page<Credentials>]>, {
    load: () => Promise.all([get<GeneralOptions>(URL), get<Page<Credentials>>('/api/v1/credentials', { typeFilter: 'Standard', limit: 1000 })]),
    draw: ([options, credentials]) => h(GeneralOptionsView, { options, credentials }),
  });
}

function GeneralOptionsView({ options, credentials }: { options: GeneralOptions; credentials: Page<Credentials> }): VNode {
  const stored = useRef(options.emailSettings);
  const formHandle = useRef<FormHandle>();
  const [testResult, setTestResult] = useState<string>();
  const [sending, setSending] = useState(false);
  const e = options.emailSettings;
  const smtp = e.advancedSmtpOptions;
  const needsAuth = (v: Values) => Boolean(v['advancedSmtpOptions.authRequired']);
  const form = formView(
    [
      { name: 'isEnabled', label: 'Send email notifications', type: 'checkbox', value: Boolean(e.isEnabled) },
      { name: 'smtpServerName', label: 'SMTP server', value: e.smtpServerName, placeholder: 'smtp.example.com' },
      { name: 'advancedSmtpOptions.port', label: 'Port', type: 'number', min: 1, max: 65535, value: smtp.port },
      { name: 'advancedSmtpOptions.SSLEnabled', label: 'Implicit TLS (port 465); otherwise STARTTLS is required', type: 'checkbox', value: smtp.SSLEnabled },
      { name: 'advancedSmtpOptions.authRequired', label: 'The server requires authentication', type: 'checkbox', value: smtp.authRequired },
      {
        name: 'advancedSmtpOptions.credentialsId',
        label: 'SMTP credentials',
        type: 'select',
        options: credentials.data.map((c) => ({ value: c.id, label: c.description ? `${c.username} (${c.description})` : c.username })),
        value: smtp.credentialsId ?? '',
        required: true,
        when: needsAuth,
        hint: credentials.data.length ? 'The password is taken from the credentials; it is never shown here.' : 'Add Standard credentials on the Credentials page first.',
      },
      { name: 'from', label: 'From', value: e.from, autocomplete: 'email', placeholder: 'rampart@example.com' },
      { name: 'to', label: 'To', value: e.to, hint: 'One or more addresses, separated by ; or ,' },
      { name: 'subject', label: 'Subject', value: e.subject, hint: '%JobResult%, %JobName% and %ObjectCount% are replaced.' },
      { name: 'notifyOnSuccess', label: 'Notify on success', type: 'checkbox', value: e.notifyOnSuccess },
      { name: 'notifyOnWarning', label: 'Notify on warning', type: 'checkbox', value: e.notifyOnWarning },
      { name: 'notifyOnFailure', label: 'Notify on failure', type: 'checkbox', value: e.notifyOnFailure },
      { name: 'notifyOnLastRetry', label: 'Notify on the last retry only', type: 'checkbox', value: e.notifyOnLastRetry },
    ],
    'Save',
    async (v) => {
      // Only the email part is sent: the API keeps the parts left out (notifications, SIEM) as stored.
      const saved = await put<GeneralOptions>(URL, { emailSettings: emailSettingsOf(v, stored.current) });
      stored.current = saved.emailSettings;
      toast('Email settings saved');
    },
    undefined,
    undefined,
    (handle) => (formHandle.current = handle),
  );
  const sendTest = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-plain',
      disabled: sending,
      onclick: async () => {
        setSending(true);
        setTestResult(undefined);
        try {
          await post(`${URL}/emailSettings/testMessage`, undefined, TEST_MESSAGE_VERSION);
          setTestResult(`Test message sent to ${stored.current.to}.`);
        } catch (error) {
          formHandle.current?.showError(error);
        } finally {
          setSending(false);
        }
      },
    },
    'Send test message',
  );
  return h(
    'div',
    {},
    pageHeader('General options', sendTest),
    h('p', { class: 'muted' }, 'The test message goes through the saved settings: save first.'),
    h('div', { 'aria-live': 'polite' }, testResult ? h('div', { class: 'notice notice-success', role: 'status' }, testResult) : null),
    h('section', { class: 'card', 'aria-label': 'Email notifications' }, h('h2', {}, 'Email notifications'), form),
  );
}
