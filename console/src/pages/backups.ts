import type { ComponentChildren, VNode } from 'preact';
import { get, type Page } from '../api.js';
import { formatDate, h } from '../dom.js';
import { useLoad } from '../hooks.js';
import { listPage } from '../crud.js';
import { entireVmRestoreDialog, instantRecoveryDialog } from './restores.js';

interface Backup {
  id: string;
  name: string;
  platformName: string;
  creationTime: string;
  repositoryId: string;
  repositoryName?: string;
  jobId?: string;
}

interface BackupObject {
  id: string;
  name: string;
  type: string;
  viType?: string;
  objectId?: string;
  path?: string;
  restorePointsCount?: number;
}

export interface RestorePoint {
  id: string;
  name: string;
  platformName: string;
  creationTime: string;
  backupId: string;
}

interface RestorePointDisk {
  uid: string;
  type: string;
  name: string;
  capacity: number;
  state: string;
}

/** Restore points live under /objectRestorePoints for the revision the console speaks (1.1; 1.2 renamed it). */
const POINTS = '/api/v1/objectRestorePoints';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
function size(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${UNITS[unit]}`;
}

function crumbs(...parts: [string, string | undefined][]): VNode {
  return h(
    'nav',
    { class: 'crumbs', 'aria-label': 'Breadcrumb' },
    h(
      'ol',
      {},
      parts.map(([label, href]) => h('li', {}, href ? h('a', { href }, label) : h('span', { 'aria-current': 'page' }, label))),
    ),
  );
}

function table(caption: string, head: string[], rows: ComponentChildren[][], empty: string): VNode {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table' },
      h('caption', { class: 'visually-hidden' }, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          head.map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.length === 0
          ? h('tr', {}, h('td', { colspan: head.length, class: 'empty' }, empty))
          : rows.map((r) =>
              h(
                'tr',
                {},
                r.map((c) => h('td', {}, c)),
              ),
            ),
      ),
    ),
  );
}

export function BackupsPage(): VNode {
  return listPage<Backup>('Backups', {
    url: '/api/v1/backups',
    filters: [],
    columns: () => [
      { label: 'Name', cell: (b) => h('a', { href: `#/backups/${b.id}` }, b.name), order: 'Name' },
      { label: 'Platform', cell: (b) => b.platformName },
      { label: 'Repository', cell: (b) => b.repositoryName ?? b.repositoryId },
      { label: 'Created', cell: (b) => formatDate(b.creationTime), order: 'CreationTime' },
    ],
  });
}

/** One backup: the VMs it holds, each with its count of restore points. */
export function BackupPage({ id }: { id?: string }): VNode | null {
  const loaded = useLoad(() => Promise.all([get<Backup>(`/api/v1/backups/${id}`), get<Page<BackupObject>>(`/api/v1/backups/${id}/objects`)]), [id]);
  if (!loaded) return null;
  const [backup, objects] = loaded;
  return h(
    'div',
    {},
    crumbs(['Backups', '#/backups'], [backup.name, undefined]),
    h('h1', {}, `Backup ${backup.name}`),
    h('p', { class: 'muted' }, `${backup.platformName} · repository ${backup.repositoryName ?? backup.repositoryId} · created ${formatDate(backup.creationTime)}`),
    h('h2', {}, 'Objects'),
    table(
      `Objects of ${backup.name}`,
      ['Name', 'Type', 'Object ID', 'Restore points'],
      objects.data.map((o) => [h('a', { href: `#/backup-objects/${o.id}` }, o.name), o.viType ?? o.type, o.objectId ?? '—', String(o.restorePointsCount ?? '—')]),
      'This backup holds no objects.',
    ),
  );
}

/** One VM of a backup: its restore points, newest first. */
export function BackupObjectPage({ id }: { id?: string }): VNode | null {
  const loaded = useLoad(() => Promise.all([get<BackupObject>(`/api/v1/backupObjects/${id}`), get<Page<RestorePoint>>(`/api/v1/backupObjects/${id}/restorePoints`)]), [id]);
  if (!loaded) return null;
  const [object, points] = loaded;
  const ordered = [...points.data].sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime));
  const backupId = ordered[0]?.backupId;
  return h(
    'div',
    {},
    crumbs(['Backups', '#/backups'], ...(backupId ? [['Backup', `#/backups/${backupId}`] as [string, string]] : []), [object.name, undefined]),
    h('h1', {}, object.name),
    h('p', { class: 'muted' }, `${object.viType ?? object.type}${object.path ? ` · ${object.path}` : ''}`),
    h('h2', {}, 'Restore points'),
    table(
      `Restore points of ${object.name}`,
      ['Created', 'Restore point'],
      ordered.map((p) => [formatDate(p.creationTime), h('a', { href: `#/restore-points/${p.id}` }, `${p.name} · ${formatDate(p.creationTime)}`)]),
      'No restore points.',
    ),
  );
}

/** Every restore point, paged and sorted by the server. */
export function RestorePointsPage(): VNode {
  return listPage<RestorePoint>('Restore points', {
    url: POINTS,
    filters: [{ param: 'nameFilter', label: 'VM name' }],
    columns: () => [
      { label: 'VM', cell: (p) => h('a', { href: `#/restore-points/${p.id}` }, p.name) },
      { label: 'Created', cell: (p) => formatDate(p.creationTime), order: 'CreationTime' },
      { label: 'Platform', cell: (p) => p.platformName },
      { label: 'Backup', cell: (p) => h('a', { href: `#/backups/${p.backupId}` }, 'Open backup'), order: 'BackupId' },
    ],
  });
}

/** One restore point: its disks, and the restores that start from it. */
export function RestorePointPage({ id }: { id?: string }): VNode | null {
  const loaded = useLoad(() => Promise.all([get<RestorePoint>(`${POINTS}/${id}`), get<Page<RestorePointDisk>>(`${POINTS}/${id}/disks`)]), [id]);
  if (!loaded) return null;
  const [point, disks] = loaded;
  return h(
    'div',
    {},
    crumbs(['Restore points', '#/restore-points'], ['Backup', `#/backups/${point.backupId}`], [`${point.name} · ${formatDate(point.creationTime)}`, undefined]),
    h(
      'div',
      { class: 'page-header' },
      h('h1', {}, `Restore point of ${point.name}`),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'btn btn-primary', onclick: () => void entireVmRestoreDialog(point) }, 'Restore entire VM'),
        h('button', { type: 'button', class: 'btn', onclick: () => void instantRecoveryDialog(point) }, 'Instant recovery'),
      ),
    ),
    h('p', { class: 'muted' }, `${point.platformName} · created ${formatDate(point.creationTime)}`),
    h('h2', {}, 'Disks'),
    table(
      `Disks of ${point.name}`,
      ['Disk', 'Type', 'Capacity', 'State'],
      disks.data.map((d) => [d.name, d.type, size(d.capacity), d.state]),
      'No disks.',
    ),
  );
}
