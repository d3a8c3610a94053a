import type { VNode } from 'preact';
import { del, get, post, type Page } from '../api.js';
import { badge, h, toast } from '../dom.js';
import { openDialog } from '../dialog.js';
import { formView, num, text, type Values } from '../forms.js';
import { confirmRemove, listPage, rowActions } from '../crud.js';
import { runInDialog, sessionDialog } from '../session-dialog.js';
import type { Session } from '../session-log.js';
import { capacityBar, type RepositoryState } from './dashboard.js';
import type { ManagedServer } from './managed-servers.js';
import type { CloudCredentials } from './cloud-credentials.js';

const URL = '/api/v1/backupInfrastructure/repositories';

const KINDS = [
  { value: 'local', label: 'Folder on this backup server' },
  { value: 'linux', label: 'Folder on a managed Linux host (SSH)' },
  { value: 's3', label: 'S3-compatible object storage' },
];

/** The request body of each kind, as the API documents it. */
function specOf(v: Values, backupServerId: string): Record<string, unknown> {
  const common = { name: text(v, 'name'), description: text(v, 'description') };
  const maxTasks = num(v, 'maxTaskCount');
  const repository = { path: text(v, 'path'), taskLimitEnabled: maxTasks !== undefined, ...(maxTasks !== undefined ? { maxTaskCount: maxTasks } : {}) };
  const mountServer = { mountServerId: backupServerId, writeCacheFolder: '/var/cache/rampart', vPowerNFSEnabled: false };
  if (v.kind === 's3') {
    return {
      ...common,
      type: 'S3Compatible',
      account: {
        servicePoint: text(v, 'servicePoint'),
        regionId: text(v, 'regionId') || 'us-east-1',
        credentialsId: text(v, 'cloudCredentialsId'),
        connectionSettings: { connectionType: 'Direct' },
      },
      bucket: { bucketName: text(v, 'bucketName'), folderName: text(v, 'folderName') },
      mountServer,
    };
  }
  return { ...common, type: 'LinuxLocal', hostId: v.kind === 'linux' ? text(v, 'hostId') : backupServerId, repository, mountServer };
}

async function addWizard(reload: () => void): Promise<void> {
  const [servers, clouds] = await Promise.all([
    get<Page<ManagedServer>>('/api/v1/backupInfrastructure/managedServers', { typeFilter: 'LinuxHost', limit: 1000 }),
    get<Page<CloudCredentials>>('/api/v1/cloudCredentials', { typeFilter: 'Amazon', limit: 1000 }),
  ]);
  const backupServer = servers.data.find((s) => s.isBackupServer);
  const hosts = servers.data.filter((s) => !s.isBackupServer).map((s) => ({ value: s.id, label: s.name }));
  const folder = (v: Values) => v.kind !== 's3';
  openDialog(
    'Add repository',
    (dialog) => {
      const form = formView(
        [
          { name: 'kind', label: 'Kind', type: 'select', options: KINDS },
          { name: 'name', label: 'Name', required: true },
          { name: 'description', label: 'Description' },
          {
            name: 'hostId',
            label: 'Linux host',
            type: 'select',
            options: hosts,
            required: true,
            when: (v) => v.kind === 'linux',
            hint: hosts.length ? undefined : 'Add the host on the Managed servers page first.',
          },
          { name: 'path', label: 'Folder', required: true, when: folder, placeholder: '/srv/backups', hint: 'Absolute path; created if it does not exist.' },
          { name: 'maxTaskCount', label: 'Limit concurrent tasks to', type: 'number', min: 1, when: folder },
          { name: 'servicePoint', label: 'Service point (endpoint URL)', type: 'url', required: true, when: (v) => v.kind === 's3', placeholder: 'https://s3.example.com' },
          { name: 'regionId', label: 'Region', value: 'us-east-1', when: (v) => v.kind === 's3' },
          {
            name: 'cloudCredentialsId',
            label: 'Cloud credentials',
            type: 'select',
            required: true,
            options: clouds.data.map((c) => ({ value: c.id, label: c.accessKey ?? c.tag })),
            when: (v) => v.kind === 's3',
            hint: clouds.data.length ? undefined : 'Add an access key on the Cloud credentials page first.',
          },
          { name: 'bucketName', label: 'Bucket', required: true, when: (v) => v.kind === 's3' },
          { name: 'folderName', label: 'Folder in the bucket', required: true, value: 'rampart', when: (v) => v.kind === 's3' },
        ],
        'Add repository',
        async (v) => {
          if (!backupServer) throw new Error('The backup server itself is missing from the managed servers list.');
          // The spec is checked by the API before any session starts: a 400 stays in this form, next to its field.
          const session = await post<Session>(URL, specOf(v, backupServer.id));
          await runInDialog(dialog, async () => session, reload);
        },
      );
      return [form];
    },
    { wide: true },
  );
}

export function RepositoriesPage(): VNode {
  return listPage<RepositoryState>('Repositories', {
    url: `${URL}/states`,
    addLabel: 'Add repository',
    add: (reload) => void addWizard(reload).catch((error: Error) => toast(error.message, 'error')),
    filters: [
      { param: 'nameFilter', label: 'Name' },
      {
        param: 'typeFilter',
        label: 'Type',
        options: ['LinuxLocal', 'LinuxHardened', 'WinLocal', 'Smb', 'Nfs', 'S3Compatible', 'AmazonS3', 'WasabiCloud', 'GoogleCloud', 'AzureBlob'].map((t) => ({
          value: t,
          label: t,
        })),
      },
    ],
    columns: (reload) => [
      { label: 'Name', cell: (r) => h('strong', {}, r.name), order: 'Name' },
      { label: 'Type', cell: (r) => r.type, order: 'Type' },
      { label: 'Host', cell: (r) => r.hostName ?? '—', order: 'Host' },
      { label: 'Path', cell: (r) => r.path ?? '—', order: 'Path' },
      {
        label: 'State',
        cell: (r) => h('div', {}, badge(r.isOnline ? 'Online' : 'Offline'), r.statusMessage && !r.isOnline ? h('div', { class: 'muted' }, r.statusMessage) : null),
      },
      { label: 'Capacity', cell: capacityBar, order: 'CapacityGB', class: 'capacity-cell' },
      {
        label: 'Actions',
        cell: (r) =>
          rowActions(
            ['Rescan', () => void sessionDialog(`Rescan ${r.name}`, () => post<Session>(`${URL}/rescan`, { repositoryIds: [r.id] }, '1.2-rev1'), reload), `Rescan ${r.name}`],
            ['Remove', () => void confirmRemove(`Repository ${r.name}`, () => del(`${URL}/${r.id}`), reload), `Remove ${r.name}`],
          ),
      },
    ],
  });
}
