import type { VNode } from 'preact';
import { del, get, post, put, type Page } from '../api.js';
import { h, toast } from '../dom.js';
import { openDialog } from '../dialog.js';
import { formView, num, text, type Field, type Values } from '../forms.js';
import { confirmRemove, listPage, rowActions } from '../crud.js';
import { runInDialog } from '../session-dialog.js';
import type { Session } from '../session-log.js';
import type { ManagedServer } from './managed-servers.js';

export interface Proxy {
  id: string;
  name: string;
  description: string;
  type: 'ViProxy';
  server: { hostId: string; transportMode?: string; failoverToNetwork?: boolean; hostToProxyEncryption?: boolean; maxTaskCount?: number; connectedDatastores?: unknown };
}

const URL = '/api/v1/backupInfrastructure/proxies';

const TRANSPORT_MODES = [
  { value: 'auto', label: 'Automatic selection' },
  { value: 'directAccess', label: 'Direct storage access' },
  { value: 'virtualAppliance', label: 'Virtual appliance (hot add)' },
  { value: 'network', label: 'Network (NBD)' },
];

/** The settings a user chooses; their names are the API's own (server.*), so a 400 lands next to its field. */
function settingsFields(current?: Proxy['server']): Field[] {
  return [
    { name: 'server.transportMode', label: 'Transport mode', type: 'select', options: TRANSPORT_MODES, value: current?.transportMode ?? 'auto' },
    { name: 'server.maxTaskCount', label: 'Maximum concurrent tasks', type: 'number', min: 1, max: 512, value: current?.maxTaskCount ?? 2, required: true },
    { name: 'server.failoverToNetwork', label: 'Fail over to network mode', type: 'checkbox', value: current?.failoverToNetwork ?? true },
    { name: 'server.hostToProxyEncryption', label: 'Encrypt traffic between host and proxy', type: 'checkbox', value: current?.hostToProxyEncryption ?? false },
  ];
}

function settingsOf(v: Values) {
  return {
    transportMode: text(v, 'server.transportMode'),
    maxTaskCount: num(v, 'server.maxTaskCount'),
    failoverToNetwork: Boolean(v['server.failoverToNetwork']),
    hostToProxyEncryption: Boolean(v['server.hostToProxyEncryption']),
  };
}

/** A form whose submit starts a session; the dialog then follows the session's log to its end. */
function sessionForm(title: string, fields: Field[], submitLabel: string, start: (v: Values) => Promise<Session>, reload: () => void): void {
  openDialog(
    title,
    (dialog) => {
      const form = formView(fields, submitLabel, async (v) => {
        // The API checks the body before any session starts: a 400 stays in this form, next to its field.
        const session = await start(v);
        await runInDialog(dialog, async () => session, reload);
      });
      return [form];
    },
    { wide: true },
  );
}

async function addProxy(reload: () => void): Promise<void> {
  const [servers, proxies] = await Promise.all([get<Page<ManagedServer>>('/api/v1/backupInfrastructure/managedServers', { limit: 1000 }), get<Page<Proxy>>(URL, { limit: 1000 })]);
  const taken = new Set(proxies.data.map((p) => p.server.hostId));
  const hosts = servers.data.filter((s) => !taken.has(s.id)).map((s) => ({ value: s.id, label: `${s.name}${s.isBackupServer ? ' (this backup server)' : ''}` }));
  sessionForm(
    'Add backup proxy',
    [
      {
        name: 'server.hostId',
        label: 'Server',
        type: 'select',
        options: hosts,
        required: true,
        hint: hosts.length
          ? 'A proxy is a role of a managed server and takes its name.'
          : 'Every managed server is already a proxy: add a server on the Managed servers page first.',
      },
      { name: 'description', label: 'Description' },
      ...settingsFields(),
    ],
    'Add proxy',
    (v) => post<Session>(URL, { description: text(v, 'description'), type: 'ViProxy', server: { hostId: text(v, 'server.hostId'), ...settingsOf(v) } }),
    reload,
  );
}

/** VMware backup proxies: which managed servers move the data, in which transport mode, with how many tasks. */
export function ProxiesPage(): VNode {
  return listPage<Proxy>('Backup proxies', {
    url: URL,
    addLabel: 'Add proxy',
    add: (reload) => void addProxy(reload).catch((error: Error) => toast(error.message, 'error')),
    columns: (reload) => [
      { label: 'Name', cell: (p) => h('strong', {}, p.name), order: 'Name' },
      { label: 'Description', cell: (p) => p.description, order: 'Description' },
      { label: 'Transport mode', cell: (p) => TRANSPORT_MODES.find((m) => m.value === p.server.transportMode)?.label ?? p.server.transportMode ?? '—' },
      { label: 'Concurrent tasks', cell: (p) => String(p.server.maxTaskCount ?? '—') },
      {
        label: 'Actions',
        cell: (p) =>
          rowActions(
            [
              'Edit',
              () =>
                sessionForm(
                  `Edit proxy ${p.name}`,
                  [{ name: 'description', label: 'Description', value: p.description }, ...settingsFields(p.server)],
                  'Save',
                  // The whole model goes back, so settings this form does not show (datastores) are kept.
                  (v) => put<Session>(`${URL}/${p.id}`, { ...p, description: text(v, 'description'), server: { ...p.server, ...settingsOf(v) } }),
                  reload,
                ),
              `Edit proxy ${p.name}`,
            ],
            ['Remove', () => void confirmRemove(`Proxy ${p.name}`, () => del(`${URL}/${p.id}`), reload), `Remove proxy ${p.name}`],
          ),
      },
    ],
  });
}
