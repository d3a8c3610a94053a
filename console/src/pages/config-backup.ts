import type { VNode } from 'preact';
import { get, post, put, type Page } from '../api.js';
import { useState } from 'preact/hooks';
import { formatDate, h, toast } from '../dom.js';
import { Loaded } from '../hooks.js';
import { pageHeader } from '../crud.js';
import { formView, num, text, type Values } from '../forms.js';
import { sessionDialog } from '../session-dialog.js';
import type { Session } from '../session-log.js';
import type { RepositoryState } from './dashboard.js';

interface ConfigBackup {
  isEnabled: boolean;
  backupRepositoryId: string;
  restorePointsToKeep: number;
  notifications: Record<string, unknown>;
  schedule: { isEnabled: boolean; daily?: { isEnabled: boolean; localTime?: string; dailyKind?: string; days?: string[] }; monthly?: Record<string, unknown> };
  lastSuccessfulBackup: { lastSuccessfulTime?: string; sessionId?: string };
  encryption: { isEnabled: boolean; passwordId?: string | null };
}

interface EncryptionPassword {
  id: string;
  hint: string;
}

const URL = '/api/v1/configBackup';

function settingsOf(v: Values, stored: ConfigBackup): ConfigBackup {
  const encrypted = Boolean(v['encryption.isEnabled']);
  const scheduled = Boolean(v['schedule.isEnabled']);
  return {
    ...stored,
    isEnabled: Boolean(v.isEnabled),
    backupRepositoryId: text(v, 'backupRepositoryId'),
    restorePointsToKeep: num(v, 'restorePointsToKeep') ?? stored.restorePointsToKeep,
    schedule: {
      ...stored.schedule,
      isEnabled: scheduled,
      daily: { ...stored.schedule.daily, isEnabled: scheduled, dailyKind: 'Everyday', localTime: text(v, 'schedule.daily.localTime') },
    },
    encryption: encrypted ? { isEnabled: true, passwordId: text(v, 'encryption.passwordId') || null } : { isEnabled: false },
  };
}

/** The configuration backup: where it goes, how many are kept, when it runs, encrypted with which password; and a run now. */
export function ConfigBackupPage(): VNode {
  return h(Loaded<[ConfigBackup, Page<RepositoryState>, Page<EncryptionPassword>]>, {
    load: () =>
      Promise.all([
        get<ConfigBackup>(URL),
        get<Page<RepositoryState>>('/api/v1/backupInfrastructure/repositories/states', { limit: 1000 }),
        get<Page<EncryptionPassword>>('/api/v1/encryptionPasswords', { limit: 1000 }),
      ]),
    draw: ([first, repositories, passwords]) => h(ConfigBackupView, { first, repositories, passwords }),
  });
}

function ConfigBackupView({ first, repositories, passwords }: { first: ConfigBackup; repositories: Page<RepositoryState>; passwords: Page<EncryptionPassword> }): VNode {
  const [stored, setStored] = useState(first);
  const last = h(
    'p',
    { class: 'muted', 'aria-live': 'polite' },
    stored.lastSuccessfulBackup.lastSuccessfulTime
      ? ['Last successful backup: ', formatDate(stored.lastSuccessfulBackup.lastSuccessfulTime)]
      : 'No configuration backup has succeeded yet.',
  );
  const form = formView(
    [
      { name: 'isEnabled', label: 'Back up the configuration', type: 'checkbox', value: stored.isEnabled },
      {
        name: 'backupRepositoryId',
        label: 'Repository',
        type: 'select',
        options: repositories.data.map((r) => ({ value: r.id, label: `${r.name} (${r.type})` })),
        value: stored.backupRepositoryId,
        required: true,
        hint: 'A folder on this backup server.',
      },
      { name: 'restorePointsToKeep', label: 'Restore points to keep', type: 'number', min: 1, max: 999, value: stored.restorePointsToKeep, required: true },
      { name: 'schedule.isEnabled', label: 'Run every day', type: 'checkbox', value: stored.schedule.isEnabled },
      {
        name: 'schedule.daily.localTime',
        label: 'At (server time)',
        value: stored.schedule.daily?.localTime ?? '10:00',
        placeholder: 'HH:MM',
        when: (v) => Boolean(v['schedule.isEnabled']),
      },
      { name: 'encryption.isEnabled', label: 'Encrypt the backup', type: 'checkbox', value: stored.encryption.isEnabled },
      {
        name: 'encryption.passwordId',
        label: 'Encryption password',
        type: 'select',
        options: passwords.data.map((p) => ({ value: p.id, label: p.hint })),
        value: stored.encryption.passwordId ?? '',
        required: true,
        when: (v) => Boolean(v['encryption.isEnabled']),
        hint: passwords.data.length ? 'Shown by its hint; the password itself is never shown.' : 'Add one on the Encryption passwords page first.',
      },
    ],
    'Save',
    async (v) => {
      setStored(await put<ConfigBackup>(URL, settingsOf(v, stored)));
      toast('Configuration backup settings saved');
    },
  );
  const runNow = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-primary',
      onclick: () =>
        void sessionDialog(
          'Configuration backup',
          () => post<Session>(`${URL}/backup`),
          () => void get<ConfigBackup>(URL).then(setStored),
        ),
    },
    'Back up now',
  );
  return h('div', {}, pageHeader('Configuration backup', runNow), last, h('section', { class: 'card', 'aria-label': 'Settings' }, form));
}
