import type { VNode } from 'preact';
import { useLoad } from '../hooks.js';
import { ApiError, del, get, post, put, type Page } from '../api.js';
import { badge, formatDate, h, notice, toast } from '../dom.js';
import { openDialog } from '../dialog.js';
import { formView, num, text, type Values } from '../forms.js';
import { confirmRemove, listPage, rowActions } from '../crud.js';
import { runInDialog } from '../session-dialog.js';
import type { Session } from '../session-log.js';
import { vmPicker, vsphereServers, type VmwareObject } from '../inventory-picker.js';
import type { RepositoryState } from './dashboard.js';

const URL = '/api/v1/jobs';
const EMPTY_ID = '00000000-0000-0000-0000-000000000000';

export interface JobState {
  id: string;
  name: string;
  type: string;
  description: string;
  status: 'running' | 'inactive' | 'disabled';
  lastRun?: string;
  lastResult: string;
  nextRun?: string;
  repositoryId?: string;
  repositoryName?: string;
  objectsCount: number;
  sessionId?: string;
}

/** BackupJobModel as revision 1.1 answers it; only the parts the console edits are named. */
interface Job {
  id: string;
  name: string;
  description: string;
  type: 'Backup';
  isDisabled: boolean;
  virtualMachines: { includes: { inventoryObject: VmwareObject }[]; excludes?: unknown };
  storage: {
    backupRepositoryId: string;
    retentionPolicy: { type: 'RestorePoints' | 'Days'; quantity: number };
    advancedSettings?: { storageData?: { encryption?: { isEnabled: boolean; encryptionPasswordIdOrNull?: string } } & Record<string, unknown> } & Record<string, unknown>;
  } & Record<string, unknown>;
  schedule?: { runAutomatically: boolean; daily?: { isEnabled: boolean; localTime?: string; dailyKind?: string } } & Record<string, unknown>;
  [key: string]: unknown;
}

interface EncryptionPassword {
  id: string;
  hint: string;
}

const ENCRYPTION = 'storage.advancedSettings.storageData.encryption.encryptionPasswordIdOrNull';

/** The form's values into the parts of BackupJobSpec the console sets; the rest of an edited job is kept as it was. */
function jobSpec(v: Values, vms: VmwareObject[], before?: Job): Record<string, unknown> {
  const passwordId = text(v, ENCRYPTION);
  const storageData = {
    ...(before?.storage.advancedSettings?.storageData ?? {}),
    encryption: passwordId ? { isEnabled: true, encryptionPasswordIdOrNull: passwordId } : { isEnabled: false },
  };
  const schedule = v['schedule.runAutomatically']
    ? { ...(before?.schedule ?? {}), runAutomatically: true, daily: { isEnabled: true, localTime: text(v, 'schedule.daily.localTime'), dailyKind: 'Everyday' } }
    : { ...(before?.schedule ?? {}), runAutomatically: false };
  return {
    ...(before ?? {}),
    name: text(v, 'name'),
    description: text(v, 'description'),
    type: 'Backup',
    isHighPriority: before?.isHighPriority ?? false,
    virtualMachines: { ...(before?.virtualMachines ?? {}), includes: vms },
    storage: {
      ...(before?.storage ?? { backupProxies: { autoSelection: true } }),
      backupRepositoryId: text(v, 'storage.backupRepositoryId'),
      retentionPolicy: { type: text(v, 'storage.retentionPolicy.type'), quantity: num(v, 'storage.retentionPolicy.quantity') },
      advancedSettings: { backupModeType: 'Incremental', ...(before?.storage.advancedSettings ?? {}), storageData },
    },
    guestProcessing: before?.guestProcessing ?? {
      appAwareProcessing: { isEnabled: false },
      guestFSIndexing: { isEnabled: false },
      guestCredentials: { credsId: EMPTY_ID, credsType: 'Standard' },
    },
    schedule,
  };
}

/** Create or edit: VMs picked from the inventory tree, repository, retention, schedule and encryption. */
async function jobDialog(reload: () => void, existing?: JobState): Promise<void> {
  const [servers, repositories, passwords, before] = await Promise.all([
    vsphereServers(),
    get<Page<RepositoryState>>('/api/v1/backupInfrastructure/repositories/states', { limit: 1000, orderColumn: 'Name' }),
    get<Page<EncryptionPassword>>('/api/v1/encryptionPasswords', { limit: 1000 }),
    existing ? get<Job>(`${URL}/${existing.id}`) : Promise.resolve(undefined),
  ]);
  const picker = vmPicker(
    servers,
    (before?.virtualMachines.includes ?? []).map((i) => i.inventoryObject),
  );
  const encryption = before?.storage.advancedSettings?.storageData?.encryption;
  const title = before ? `Edit job ${before.name}` : 'Create backup job';
  openDialog(
    title,
    (dialog) => {
      const form = formView(
        [
          { name: 'name', label: 'Name', required: true, value: before?.name },
          { name: 'description', label: 'Description', value: before?.description },
          {
            name: 'storage.backupRepositoryId',
            label: 'Repository',
            type: 'select',
            required: true,
            value: before?.storage.backupRepositoryId,
            options: repositories.data.map((r) => ({ value: r.id, label: r.name })),
            hint: repositories.data.length ? undefined : 'Add a repository on the Repositories page first.',
          },
          {
            name: 'storage.retentionPolicy.type',
            label: 'Keep',
            type: 'select',
            value: before?.storage.retentionPolicy.type ?? 'RestorePoints',
            options: [
              { value: 'RestorePoints', label: 'Restore points' },
              { value: 'Days', label: 'Days' },
            ],
          },
          { name: 'storage.retentionPolicy.quantity', label: 'How many', type: 'number', min: 1, max: 999, required: true, value: before?.storage.retentionPolicy.quantity ?? 7 },
          { name: 'schedule.runAutomatically', label: 'Run automatically every day', type: 'checkbox', value: before?.schedule?.runAutomatically ?? false },
          {
            name: 'schedule.daily.localTime',
            label: 'At (server time)',
            placeholder: '22:00',
            required: true,
            value: before?.schedule?.daily?.localTime ?? '22:00',
            when: (v) => v['schedule.runAutomatically'] === true,
          },
          {
            name: ENCRYPTION,
            label: 'Encryption password',
            type: 'select',
            value: encryption?.isEnabled ? encryption.encryptionPasswordIdOrNull : '',
            options: [{ value: '', label: 'Not encrypted' }, ...passwords.data.map((p) => ({ value: p.id, label: p.hint }))],
            hint: 'The password itself never leaves the server; pick it by its hint.',
          },
        ],
        before ? 'Save' : 'Create job',
        async (v) => {
          const spec = jobSpec(v, picker.selected(), before);
          if (before) await put(`${URL}/${before.id}`, spec);
          else await post(URL, spec);
          dialog.close();
          toast(before ? `Job ${text(v, 'name')} saved` : `Job ${text(v, 'name')} created`);
          reload();
        },
        [picker.element],
      );
      return [form];
    },
    { wide: true },
  );
}

/** Start, with the active-full choice; the run's session log then streams into the same dialog. */
function startDialog(job: JobState, reload: () => void): void {
  openDialog(
    `Start ${job.name}`,
    (dialog) => {
      const form = formView(
        [{ name: 'performActiveFull', label: 'Active full backup (read every block again instead of an incremental)', type: 'checkbox' }],
        'Start',
        async (v) => {
          const session = await post<Session>(`${URL}/${job.id}/start`, { performActiveFull: v.performActiveFull === true });
          reload();
          await runInDialog(dialog, async () => session, reload);
        },
      );
      return [form];
    },
    { wide: true },
  );
}

function stopDialog(job: JobState, reload: () => void): void {
  openDialog(`Stop ${job.name}?`, (dialog) => {
    const form = formView([{ name: 'gracefullStop', label: 'Gracefully: finish the VM being processed first', type: 'checkbox', value: true }], 'Stop job', async (v) => {
      await post(`${URL}/${job.id}/stop`, { gracefullStop: v.gracefullStop === true });
      dialog.close();
      toast(`Stopping ${job.name}`);
      reload();
    });
    return [h('p', {}, `The running session of ${job.name} will be stopped.`), form];
  });
}

async function toggle(job: JobState, reload: () => void): Promise<void> {
  const action = job.status === 'disabled' ? 'enable' : 'disable';
  try {
    await post(`${URL}/${job.id}/${action}`);
    toast(`Job ${job.name} ${action}d`);
  } catch (error) {
    toast(error instanceof Error ? error.message : String(error), 'error');
  }
  reload();
}

const STATUSES = ['running', 'inactive', 'disabled'];
const RESULTS = ['None', 'Success', 'Warning', 'Failed'];

export function JobsPage(): VNode | null {
  // A server without the jobs section says so in its own words (404), never an empty table.
  const available = useLoad(
    () =>
      get(`${URL}/states`, { limit: 1 }).then(
        () => ({ missing: undefined }),
        (error: unknown) => {
          if (error instanceof ApiError && error.status === 404) return { missing: error.message };
          throw error;
        },
      ),
    [],
  );
  if (!available) return null;
  if (available.missing) return h('div', {}, h('h1', {}, 'Jobs'), notice('info', `Jobs are not available on this server: ${available.missing}`));
  return listPage<JobState>('Jobs', {
    url: `${URL}/states`,
    // States change on their own (runs, schedules): refresh while the page is shown.
    refreshEvery: 5000,
    addLabel: 'Create job',
    add: (reload) => void jobDialog(reload).catch((error: Error) => toast(error.message, 'error')),
    filters: [
      { param: 'nameFilter', label: 'Name' },
      { param: 'statusFilter', label: 'Status', options: STATUSES.map((s) => ({ value: s, label: s })) },
      { param: 'lastResultFilter', label: 'Last result', options: RESULTS.map((s) => ({ value: s, label: s })) },
    ],
    columns: (reload) => [
      { label: 'Name', cell: (j) => h('div', {}, h('strong', {}, j.name), j.description ? h('div', { class: 'muted' }, j.description) : null), order: 'Name' },
      { label: 'Status', cell: (j) => badge(j.status), order: 'Status' },
      {
        label: 'Last result',
        cell: (j) => (j.sessionId ? h('a', { href: `#/sessions/${j.sessionId}`, 'aria-label': `Last session of ${j.name}` }, badge(j.lastResult)) : badge(j.lastResult)),
        order: 'LastResult',
      },
      { label: 'Last run', cell: (j) => formatDate(j.lastRun), order: 'LastRun' },
      { label: 'Next run', cell: (j) => formatDate(j.nextRun), order: 'NextRun' },
      { label: 'Objects', cell: (j) => String(j.objectsCount), order: 'ObjectsCount' },
      { label: 'Repository', cell: (j) => j.repositoryName ?? '—', order: 'RepositoryId' },
      {
        label: 'Actions',
        cell: (j) =>
          rowActions(
            ...(j.status === 'running'
              ? [['Stop', () => stopDialog(j, reload), `Stop ${j.name}`] as [string, () => void, string]]
              : [['Start', () => startDialog(j, reload), `Start ${j.name}`] as [string, () => void, string]]),
            [j.status === 'disabled' ? 'Enable' : 'Disable', () => void toggle(j, reload), `${j.status === 'disabled' ? 'Enable' : 'Disable'} ${j.name}`],
            ['Edit', () => void jobDialog(reload, j).catch((error: Error) => toast(error.message, 'error')), `Edit ${j.name}`],
            ['Delete', () => void confirmRemove(`Job ${j.name}`, () => del(`${URL}/${j.id}`), reload), `Delete ${j.name}`],
          ),
      },
    ],
  });
}
