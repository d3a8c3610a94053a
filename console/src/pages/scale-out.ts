import type { VNode } from 'preact';
import { useLoad } from '../hooks.js';
import { del, get, post, type Page } from '../api.js';
import { badge, h, toast } from '../dom.js';
import { confirmAction, openDialog } from '../dialog.js';
import { formView, text } from '../forms.js';
import { confirmRemove, listPage, rowActions } from '../crud.js';
import { sessionDialog } from '../session-dialog.js';
import type { Session } from '../session-log.js';
import type { RepositoryState } from './dashboard.js';

const URL = '/api/v1/backupInfrastructure/scaleOutRepositories';

interface Extent {
  id: string;
  name?: string;
  status?: string;
}
interface ScaleOut {
  id: string;
  name: string;
  description: string;
  performanceTier: { performanceExtents: Extent[] };
  capacityTier?: { enabled?: boolean; extents?: Extent[] };
}

/** What each extent mode change does, said before it is done. */
const MODES: { action: string; label: string; allowed: (status: string) => boolean; explain: string }[] = [
  { action: 'enableSealedMode', label: 'Seal', allowed: (s) => s === 'Normal', explain: 'No new backups are written to a sealed extent; restores and deletions still work.' },
  { action: 'disableSealedMode', label: 'Unseal', allowed: (s) => s === 'Sealed', explain: 'The extent takes new backups again.' },
  {
    action: 'enableMaintenanceMode',
    label: 'Maintenance',
    allowed: (s) => s === 'Normal' || s === 'Sealed',
    explain: 'Nothing reads from or writes to an extent in maintenance. If sessions use it now, it waits for them (Pending).',
  },
  { action: 'disableMaintenanceMode', label: 'End maintenance', allowed: (s) => s === 'Maintenance' || s === 'Pending', explain: 'The extent goes back to its previous mode.' },
  {
    action: 'evacuateBackups',
    label: 'Evacuate',
    allowed: (s) => s === 'Maintenance',
    explain: 'Backups are moved from this extent to the other performance extents. This can take long.',
  },
];

function extentsDialog(sobr: ScaleOut, names: Map<string, string>, reload: () => void): void {
  openDialog(
    `Extents of ${sobr.name}`,
    (dialog) => {
      const table = h(
        'tbody',
        {},
        sobr.performanceTier.performanceExtents.map((e) => {
          const status = e.status ?? 'Normal';
          const name = e.name ?? names.get(e.id) ?? e.id;
          return h(
            'tr',
            {},
            h('td', {}, name),
            h('td', {}, badge(status)),
            h(
              'td',
              {},
              rowActions(
                ...MODES.filter((m) => m.allowed(status)).map(
                  (m) =>
                    [
                      m.label,
                      async () => {
                        if (!(await confirmAction(`${m.label}: ${name}?`, [h('p', {}, m.explain)], m.label, m.action === 'evacuateBackups'))) return;
                        dialog.close();
                        await sessionDialog(`${m.label}: ${name}`, () => post<Session>(`${URL}/${sobr.id}/${m.action}`, { repositoryIds: [e.id] }), reload);
                      },
                      `${m.label} ${name}`,
                    ] as [string, () => void, string],
                ),
              ),
            ),
          );
        }),
      );
      return [
        h(
          'table',
          { class: 'table' },
          h('caption', { class: 'visually-hidden' }, 'Performance extents'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Extent'), h('th', { scope: 'col' }, 'Mode'), h('th', { scope: 'col' }, 'Change'))),
          table,
        ),
      ];
    },
    { wide: true },
  );
}

async function repositoryNames(): Promise<{ names: Map<string, string>; states: RepositoryState[] }> {
  const page = await get<Page<RepositoryState>>('/api/v1/backupInfrastructure/repositories/states', { limit: 1000, orderColumn: 'Name' });
  return { names: new Map(page.data.map((r) => [r.id, r.name])), states: page.data };
}

async function addDialog(reload: () => void): Promise<void> {
  const { states } = await repositoryNames();
  openDialog('Add scale-out repository', (dialog) => {
    // The ticked extents, in the order they were ticked.
    const chosen = new Set<string>();
    const boxes = states
      .filter(
        (r) =>
          !['S3Compatible', 'AmazonS3', 'WasabiCloud', 'GoogleCloud', 'AzureBlob', 'AzureArchive', 'AmazonS3Glacier', 'AzureDataBox', 'IBMCloud', 'AmazonSnowballEdge'].includes(
            r.type,
          ),
      )
      .map((r) =>
        h(
          'label',
          { class: 'check' },
          h('input', {
            type: 'checkbox',
            name: 'extent',
            value: r.id,
            onchange: (e: Event) => ((e.currentTarget as HTMLInputElement).checked ? chosen.add(r.id) : chosen.delete(r.id)),
          }),
          ` ${r.name} (${r.type})`,
        ),
      );
    const extents = h('fieldset', { class: 'field' }, h('legend', {}, 'Performance extents'), boxes.length ? boxes : h('p', { class: 'muted' }, 'Add a folder repository first.'));
    const form = formView(
      [
        { name: 'name', label: 'Name', required: true },
        { name: 'description', label: 'Description' },
      ],
      'Add',
      async (v) => {
        const ids = [...chosen];
        await post(URL, { name: text(v, 'name'), description: text(v, 'description'), performanceTier: { performanceExtents: ids.map((id) => ({ id })) } });
        dialog.close();
        toast('Scale-out repository added');
        reload();
      },
      [extents],
    );
    return [form];
  });
}

export function ScaleOutPage(): VNode | null {
  const names = useLoad(async () => (await repositoryNames()).names, []);
  if (!names) return null;
  return listPage<ScaleOut>('Scale-out repositories', {
    url: URL,
    addLabel: 'Add scale-out repository',
    add: (reload) => void addDialog(reload).catch((error: Error) => toast(error.message, 'error')),
    columns: (reload) => [
      { label: 'Name', cell: (s) => h('strong', {}, s.name), order: 'Name' },
      { label: 'Description', cell: (s) => s.description, order: 'Description' },
      {
        label: 'Performance extents',
        cell: (s) =>
          h(
            'ul',
            { class: 'plain' },
            s.performanceTier.performanceExtents.map((e) => h('li', {}, e.name ?? names.get(e.id) ?? e.id, ' ', badge(e.status ?? 'Normal'))),
          ),
      },
      { label: 'Capacity tier', cell: (s) => (s.capacityTier?.enabled ? `${s.capacityTier.extents?.length ?? 0} extent(s)` : 'off') },
      {
        label: 'Actions',
        cell: (s) =>
          rowActions(
            ['Extent modes', () => extentsDialog(s, names, reload), `Extent modes of ${s.name}`],
            ['Remove', () => void confirmRemove(`Scale-out repository ${s.name}`, () => del(`${URL}/${s.id}`), reload), `Remove ${s.name}`],
          ),
      },
    ],
  });
}
