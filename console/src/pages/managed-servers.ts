import { createElement, Fragment, type VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { del, get, post, put, type Page } from '../api.js';
import { badge, formatDate, h, notice, toast } from '../dom.js';
import { confirmAction, openDialog, type Dialog } from '../dialog.js';
import { formView, num, text, type Values } from '../forms.js';
import { listPage, rowActions } from '../crud.js';
import type { Session } from '../session-log.js';
import { runInDialog, sessionDialog } from '../session-dialog.js';
import type { Credentials } from './credentials.js';

export interface ManagedServer {
  id: string;
  name: string;
  description: string;
  type: 'LinuxHost' | 'WindowsHost' | 'ViHost';
  credentialsId: string;
  status?: string;
  statusReason?: string;
  isBackupServer?: boolean;
  sshFingerprint?: string;
  certificateThumbprint?: string;
  port?: number;
  hostInfo?: { osName?: string; kernel?: string };
}

interface Presented {
  fingerprint: string | null;
  certificate: { thumbprint: string; subject: string; issuedBy?: string; issuer?: string; validBy?: string; serialNumber?: string; keyAlgorithm?: string; keySize?: string } | null;
}

const URL = '/api/v1/backupInfrastructure/managedServers';
const TYPES = [
  { value: 'LinuxHost', label: 'Linux host (SSH)' },
  { value: 'WindowsHost', label: 'Windows host (WinRM over HTTPS)' },
  { value: 'ViHost', label: 'VMware vSphere (vCenter or ESXi)' },
];

function identity(presented: Presented): VNode {
  if (presented.fingerprint) {
    return h('dl', { class: 'details' }, h('dt', {}, 'SSH host key fingerprint'), h('dd', {}, h('code', { class: 'fingerprint presented' }, presented.fingerprint)));
  }
  const c = presented.certificate!;
  return h(
    'dl',
    { class: 'details' },
    h('dt', {}, 'TLS thumbprint (SHA-1)'),
    h('dd', {}, h('code', { class: 'fingerprint presented' }, c.thumbprint)),
    h('dt', {}, 'Subject'),
    h('dd', {}, c.subject),
    h('dt', {}, 'Issuer'),
    h('dd', {}, c.issuedBy ?? c.issuer ?? '—'),
    h('dt', {}, 'Valid until'),
    h('dd', {}, formatDate(c.validBy)),
  );
}

const howToCompare = (type: string) =>
  type === 'LinuxHost'
    ? 'On the host itself run: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub (or the key type shown) and compare.'
    : 'On the host, open its certificate (certlm.msc on Windows, the vSphere client for vCenter/ESXi) and compare the thumbprint.';

/** The trust flow: probe what the host presents, let the user compare and confirm, then add it in a session. */
async function addWizard(reload: () => void): Promise<void> {
  const creds = await get<Page<Credentials>>('/api/v1/credentials', { limit: 1000 });
  const options = (type: string) => creds.data.filter((c) => c.type === type).map((c) => ({ value: c.id, label: `${c.username}${c.description ? ` (${c.description})` : ''}` }));
  const isLinux = (v: Values) => v.type === 'LinuxHost';
  openDialog(
    'Add managed server',
    (dialog) => {
      const step1 = formView(
        [
          { name: 'type', label: 'Type', type: 'select', options: TYPES },
          { name: 'serverName', label: 'DNS name or IP address', required: true },
          {
            name: 'linuxCredentials',
            label: 'Credentials (Linux)',
            type: 'select',
            options: options('Linux'),
            required: true,
            when: isLinux,
            hint: 'Add them on the Credentials page first.',
          },
          { name: 'standardCredentials', label: 'Credentials', type: 'select', options: options('Standard'), required: true, when: (v) => !isLinux(v) },
          { name: 'port', label: 'Port', type: 'number', min: 1, max: 65535, hint: 'Empty: SSH port of the credentials, 5986 for Windows, 443 for vSphere.' },
          { name: 'description', label: 'Description', value: '' },
        ],
        'Connect and show identity',
        async (v) => {
          const credentialsId = text(v, isLinux(v) ? 'linuxCredentials' : 'standardCredentials');
          const port = num(v, 'port');
          const presented = await post<Presented>('/api/v1/connectionCertificate', { serverName: text(v, 'serverName'), credentialsId, type: v.type, ...(port ? { port } : {}) });
          confirmStep(dialog, v, credentialsId, presented, reload);
        },
      );
      return [h('p', { class: 'step' }, 'Step 1 of 3: which host'), step1];
    },
    { wide: true },
  );
}

function confirmStep(dialog: Dialog, v: Values, credentialsId: string, presented: Presented, reload: () => void): void {
  dialog.show(h(ConfirmStep, { dialog, v, credentialsId, presented, reload }));
}

function ConfirmStep({ dialog, v, credentialsId, presented, reload }: { dialog: Dialog; v: Values; credentialsId: string; presented: Presented; reload: () => void }): VNode {
  const type = String(v.type);
  const [trusted, setTrusted] = useState(false);
  const [error, setError] = useState('');
  const box = useRef<HTMLInputElement>(null);
  useEffect(() => box.current?.focus(), []);
  const add = async () => {
    if (!trusted) return setError('Confirm that you compared the identity first.');
    const port = num(v, 'port');
    await runInDialog(
      dialog,
      () =>
        post<Session>(URL, {
          name: text(v, 'serverName'),
          description: text(v, 'description'),
          type,
          credentialsId,
          ...(port ? { port } : {}),
          ...(presented.fingerprint ? { sshFingerprint: presented.fingerprint } : { certificateThumbprint: presented.certificate!.thumbprint }),
        }),
      reload,
    );
  };
  return createElement(
    Fragment,
    null,
    h('p', { class: 'step' }, 'Step 2 of 3: is this the host you mean?'),
    h('p', {}, `${text(v, 'serverName')} presents this identity:`),
    identity(presented),
    notice('info', howToCompare(type), ' Rampart will refuse the host later if it presents anything else.'),
    h(
      'div',
      { class: 'field field-checkbox' },
      h('input', { type: 'checkbox', id: 'trust-identity', ref: box, checked: trusted, onchange: (e: Event) => setTrusted((e.currentTarget as HTMLInputElement).checked) }),
      h('label', { for: 'trust-identity' }, 'I compared it and trust this host'),
      h('div', { class: 'field-error', id: 'trust-error' }, error),
    ),
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'button', class: 'btn btn-plain', onclick: () => dialog.close() }, 'Cancel'),
      h('button', { type: 'button', class: 'btn btn-primary', onclick: () => void add() }, 'Add server'),
    ),
  );
}

/** Probes a server again; a changed identity is shown as a warning, and re-pinned only on explicit confirmation. */
async function checkIdentity(server: ManagedServer, reload: () => void): Promise<void> {
  const presented = await post<Presented>('/api/v1/connectionCertificate', {
    serverName: server.name,
    credentialsId: server.credentialsId,
    type: server.type,
    ...(server.port ? { port: server.port } : {}),
  }).catch((error: Error) => error);
  openDialog(
    `Identity of ${server.name}`,
    (dialog) => {
      if (presented instanceof Error) return [notice('error', presented.message)];
      const now = presented.fingerprint ?? presented.certificate?.thumbprint ?? '';
      const pinned = server.sshFingerprint ?? server.certificateThumbprint ?? '';
      if (now === pinned) return [identity(presented), notice('success', 'The host presents the identity it was added with.')];
      return [
        notice(
          'warning',
          h('strong', {}, 'The host presents a different identity than the one it was added with.'),
          ' This happens after a reinstall or a new certificate — or when something else answers in its place.',
        ),
        h(
          'dl',
          { class: 'details' },
          h('dt', {}, 'Pinned'),
          h('dd', {}, h('code', { class: 'fingerprint' }, pinned)),
          h('dt', {}, 'Presented now'),
          h('dd', {}, h('code', { class: 'fingerprint' }, now)),
        ),
        notice('info', howToCompare(server.type)),
        h(
          'div',
          { class: 'form-actions' },
          h('button', { type: 'button', class: 'btn btn-plain', onclick: () => dialog.close() }, 'Keep the old pin'),
          h(
            'button',
            {
              type: 'button',
              class: 'btn btn-danger',
              onclick: () =>
                void runInDialog(
                  dialog,
                  async () => {
                    const model = await get<ManagedServer>(`${URL}/${server.id}`);
                    return put<Session>(`${URL}/${server.id}`, { ...model, ...(presented.fingerprint ? { sshFingerprint: now } : { certificateThumbprint: now }) });
                  },
                  reload,
                ),
            },
            'Trust the new identity',
          ),
        ),
      ];
    },
    { wide: true },
  );
}

/** Description and credentials; the name and pin stay (the name is the host whose identity is pinned). The edit runs as a session. */
async function editServer(server: ManagedServer, reload: () => void): Promise<void> {
  const creds = await get<Page<Credentials>>('/api/v1/credentials', { limit: 1000, typeFilter: server.type === 'LinuxHost' ? 'Linux' : 'Standard' });
  openDialog(
    `Edit ${server.name}`,
    (dialog) => {
      const form = formView(
        [
          { name: 'description', label: 'Description', value: server.description },
          {
            name: 'credentialsId',
            label: 'Credentials',
            type: 'select',
            value: server.credentialsId,
            options: creds.data.map((c) => ({ value: c.id, label: `${c.username}${c.description ? ` (${c.description})` : ''}` })),
          },
        ],
        'Save',
        async (v) => {
          const model = await get<ManagedServer>(`${URL}/${server.id}`);
          const session = await put<Session>(`${URL}/${server.id}`, { ...model, description: text(v, 'description'), credentialsId: text(v, 'credentialsId') });
          await runInDialog(dialog, async () => session, reload);
        },
      );
      return [form];
    },
    { wide: true },
  );
}

export function ManagedServersPage(): VNode {
  return listPage<ManagedServer>('Managed servers', {
    url: URL,
    addLabel: 'Add server',
    add: (reload) => void addWizard(reload).catch((error: Error) => toast(error.message, 'error')),
    filters: [
      { param: 'nameFilter', label: 'Name' },
      { param: 'typeFilter', label: 'Type', options: TYPES },
    ],
    columns: (reload) => [
      { label: 'Name', cell: (s) => h('span', {}, s.name, s.isBackupServer ? h('span', { class: 'muted' }, ' (this backup server)') : ''), order: 'Name' },
      { label: 'Type', cell: (s) => s.type, order: 'Type' },
      {
        label: 'Status',
        cell: (s) =>
          h(
            'div',
            {},
            badge(s.status ?? 'Available'),
            s.status === 'Unavailable' && s.statusReason
              ? h('div', { class: `status-reason${/identity|fingerprint|thumbprint|pin/i.test(s.statusReason) ? ' warning' : ''}` }, s.statusReason)
              : null,
          ),
      },
      { label: 'Identity', cell: (s) => h('code', { class: 'fingerprint small' }, s.sshFingerprint ?? s.certificateThumbprint ?? '—') },
      { label: 'Description', cell: (s) => s.description, order: 'Description' },
      {
        label: 'Actions',
        cell: (s) =>
          s.isBackupServer
            ? ''
            : rowActions(
                ['Edit', () => void editServer(s, reload).catch((error: Error) => toast(error.message, 'error')), `Edit ${s.name}`],
                ['Check identity', () => void checkIdentity(s, reload), `Check the identity of ${s.name}`],
                ['Rescan', () => void sessionDialog(`Rescan ${s.name}`, () => post<Session>(`${URL}/${s.id}/rescan`), reload), `Rescan ${s.name}`],
                [
                  'Remove',
                  async () => {
                    if (
                      !(await confirmAction(
                        `Remove ${s.name}?`,
                        [h('p', {}, `Rampart will no longer manage ${s.name}. Repositories on it must be removed first.`)],
                        'Remove',
                        true,
                      ))
                    )
                      return;
                    await sessionDialog(`Remove ${s.name}`, () => del<Session>(`${URL}/${s.id}`), reload);
                  },
                  `Remove ${s.name}`,
                ],
              ),
      },
    ],
  });
}
