import type { ComponentChildren, VNode } from 'preact';
import { useInterval, useLoad, useReload } from '../hooks.js';
import { ApiError, get, post, type Page } from '../api.js';
import { badge, formatDate, h, notice, toast } from '../dom.js';
import { confirmAction, openDialog } from '../dialog.js';
import { formView, optionalText, text, type Field, type Values } from '../forms.js';
import { pageHeader, rowActions } from '../crud.js';
import { runInDialog, sessionDialog } from '../session-dialog.js';
import type { Session } from '../session-log.js';
import { inventoryObjects, vsphereServers, type VmwareObject } from '../inventory-picker.js';
import type { RestorePoint } from './backups.js';

const ENTIRE_VM = '/api/v1/restore/vmRestore/vmware/';
const MOUNTS = '/api/v1/restore/instantRecovery/vmware/vm';

interface Mount {
  id: string;
  sessionId: string;
  state: 'Failed' | 'Mounting' | 'Mounted' | 'Dismounting';
  vmName: string;
  errorMessage?: string;
  spec?: { objectRestorePointId?: string; type?: string };
}

/** Where a VM can go: hosts, resource pools, folders and datastores of every vSphere server, keyed for a select. */
interface Targets {
  objects: Map<string, VmwareObject>;
  options(type: string): { value: string; label: string }[];
}

async function targets(): Promise<Targets> {
  const servers = await vsphereServers();
  const lists = await Promise.all(servers.map((s) => inventoryObjects(s.name, ['Host', 'ResourcePool', 'Folder', 'Datastore'])));
  const objects = new Map<string, VmwareObject>();
  for (const o of lists.flat()) objects.set(`${o.hostName}|${o.type}|${o.objectId ?? o.name}`, o);
  return {
    objects,
    // Names repeat (every host has a "Resources" pool): the object ID tells them apart.
    options: (type) =>
      [...objects].filter(([, o]) => o.type === type).map(([key, o]) => ({ value: key, label: `${o.name} (${o.hostName}${o.objectId ? `, ${o.objectId}` : ''})` })),
  };
}

const customized = (v: Values) => v.type === 'Customized';

function targetFields(t: Targets, datastoreName: string): Field[] {
  const field = (name: string, label: string, type: string, required = true): Field => ({
    name,
    label,
    type: 'select',
    required,
    options: required ? t.options(type) : [{ value: '', label: 'Default' }, ...t.options(type)],
    when: customized,
  });
  return [
    // The host and the datastore are what a VM needs; pool and folder default to the host's own.
    field('destinationHost', 'Destination host', 'Host'),
    field('resourcePool', 'Resource pool', 'ResourcePool', false),
    field('folder', 'VM folder', 'Folder', false),
    field(datastoreName, 'Datastore', 'Datastore'),
  ];
}

const MODES = [
  { value: 'OriginalLocation', label: 'Original location (replace the VM as it was)' },
  { value: 'Customized', label: 'New location or different settings' },
];

/** Entire VM restore (EntireViVMRestoreSpec): original location, or customized with targets from the inventory. */
export async function entireVmRestoreDialog(point: RestorePoint): Promise<void> {
  const t = await targets();
  openDialog(
    `Restore ${point.name}`,
    (dialog) => {
      const form = formView(
        [
          { name: 'type', label: 'Restore to', type: 'select', options: MODES },
          { name: 'quickRollback', label: 'Quick rollback (restore only changed blocks)', type: 'checkbox', when: (v) => !customized(v) },
          { name: 'folder.vmName', label: 'Restored VM name', value: point.name, required: true, when: customized },
          ...targetFields(t, 'datastore.datastore'),
          { name: 'powerUp', label: 'Power on the VM after restoring', type: 'checkbox' },
          { name: 'reason', label: 'Reason', type: 'textarea' },
        ],
        'Restore',
        async (v) => {
          if (!(await confirmAction(`Restore ${point.name}?`, [restoreWarning(v, point)], 'Restore', true))) return;
          const target = (key: string) => t.objects.get(text(v, key));
          const spec = {
            objectRestorePointId: point.id,
            type: v.type,
            powerUp: v.powerUp === true,
            ...(optionalText(v, 'reason') ? { reason: text(v, 'reason') } : {}),
            ...(customized(v)
              ? {
                  destinationHost: target('destinationHost'),
                  ...(target('resourcePool') ? { resourcePool: target('resourcePool') } : {}),
                  datastore: { datastore: target('datastore.datastore') },
                  folder: { vmName: text(v, 'folder.vmName'), ...(target('folder') ? { folder: target('folder') } : {}) },
                }
              : { quickRollback: v.quickRollback === true }),
          };
          const session = await post<Session>(ENTIRE_VM, spec);
          await runInDialog(
            dialog,
            async () => session,
            () => undefined,
          );
        },
      );
      return [form];
    },
    { wide: true },
  );
}

function restoreWarning(v: Values, point: RestorePoint): VNode {
  return customized(v)
    ? h('p', {}, `A new VM ${text(v, 'folder.vmName')} is created from the restore point of ${formatDate(point.creationTime)}.`)
    : h('p', {}, `The VM ${point.name} is overwritten with its state of ${formatDate(point.creationTime)}. Changes made since are lost.`);
}

/** Instant recovery (InstantViVMRecoverySpec): the VM runs from the backup until it is migrated or unmounted. */
export async function instantRecoveryDialog(point: RestorePoint): Promise<void> {
  const t = await targets();
  openDialog(
    `Instant recovery of ${point.name}`,
    (dialog) => {
      const form = formView(
        [
          { name: 'type', label: 'Recover to', type: 'select', options: MODES },
          { name: 'destination.restoredVmName', label: 'Recovered VM name', value: point.name, required: true, when: customized },
          ...targetFields(t, 'datastore.cacheDatastore').map((f) =>
            f.name === 'datastore.cacheDatastore'
              ? { ...f, label: 'Datastore for redo logs', required: false, options: [{ value: '', label: 'Keep them with the backup' }, ...t.options('Datastore')] }
              : f,
          ),
          {
            name: 'destination.biosUuidPolicy',
            label: 'BIOS UUID',
            type: 'select',
            options: [
              { value: 'preserve', label: 'Keep the original' },
              { value: 'generateNew', label: 'Generate a new one' },
            ],
            when: customized,
          },
          { name: 'nicsEnabled', label: 'Connect the VM to the network', type: 'checkbox' },
          { name: 'powerUp', label: 'Power on the VM', type: 'checkbox', value: true },
          { name: 'reason', label: 'Reason', type: 'textarea' },
        ],
        'Start instant recovery',
        async (v) => {
          const target = (key: string) => t.objects.get(text(v, key));
          const cache = target('datastore.cacheDatastore');
          const spec = {
            objectRestorePointId: point.id,
            type: v.type,
            secureRestore: { enableAntivirusScan: false },
            nicsEnabled: v.nicsEnabled === true,
            powerUp: v.powerUp === true,
            ...(optionalText(v, 'reason') ? { reason: text(v, 'reason') } : {}),
            ...(customized(v)
              ? {
                  destination: {
                    restoredVmName: text(v, 'destination.restoredVmName'),
                    destinationHost: target('destinationHost'),
                    folder: target('folder'),
                    resourcePool: target('resourcePool'),
                    biosUuidPolicy: v['destination.biosUuidPolicy'],
                  },
                  datastore: cache ? { redirectIsEnabled: true, cacheDatastore: cache } : { redirectIsEnabled: false },
                }
              : {}),
          };
          const session = await post<Session>(MOUNTS, spec);
          await runInDialog(
            dialog,
            async () => session,
            () => undefined,
          );
        },
      );
      return [form];
    },
    { wide: true },
  );
}

async function migrateDialog(mount: Mount, reload: () => void): Promise<void> {
  const t = await targets();
  openDialog(`Migrate ${mount.vmName}`, (dialog) => {
    const form = formView(
      [
        { name: 'destinationHost', label: 'Destination host', type: 'select', required: true, options: t.options('Host') },
        { name: 'resourcePool', label: 'Resource pool', type: 'select', options: [{ value: '', label: 'Default' }, ...t.options('ResourcePool')] },
        { name: 'folder', label: 'VM folder', type: 'select', options: [{ value: '', label: 'Default' }, ...t.options('Folder')] },
        { name: 'datastore', label: 'Datastore', type: 'select', options: [{ value: '', label: 'Default' }, ...t.options('Datastore')] },
      ],
      'Migrate to production',
      async (v) => {
        if (
          !(await confirmAction(`Migrate ${mount.vmName}?`, [h('p', {}, `${mount.vmName} is moved off the backup to the chosen host; the mount ends when it is done.`)], 'Migrate'))
        )
          return;
        const spec: Record<string, unknown> = {};
        for (const key of ['destinationHost', 'resourcePool', 'folder', 'datastore']) {
          const target = t.objects.get(text(v, key));
          if (target) spec[key] = target;
        }
        const session = await post<Session>(`${MOUNTS}/${mount.id}/migrate`, spec);
        await runInDialog(dialog, async () => session, reload);
      },
    );
    return [form];
  });
}

async function unmount(mount: Mount, reload: () => void): Promise<void> {
  const ok = await confirmAction(
    `Unmount ${mount.vmName}?`,
    [h('p', {}, `${mount.vmName} stops running from the backup and is removed from vSphere. Changes made in it since the recovery are lost.`)],
    'Unmount',
    true,
  );
  if (ok) await sessionDialog(`Unmount ${mount.vmName}`, () => post<Session>(`${MOUNTS}/${mount.id}/unmount`), reload);
}

/** Instant recovery mounts; a server without the restore section says so (its own 404), never invented rows. */
export function RestoresPage(): VNode {
  const [tick, reload] = useReload();
  // Mounts change on their own (migration, failures): refresh while the page is shown and no dialog is open.
  useInterval(() => {
    if (!document.querySelector('dialog[open]')) reload();
  }, 5000);
  const mounts = useLoad(
    () =>
      get<Page<Mount>>(MOUNTS, { limit: 200 }).catch((error: unknown) => {
        if (error instanceof ApiError && error.status === 404) return error;
        throw error;
      }),
    [tick],
    true,
  );
  let body: ComponentChildren = null;
  if (mounts instanceof ApiError) body = notice('info', `Restores are not available on this server: it answers 404 for ${MOUNTS} (${mounts.message}).`);
  else if (mounts)
    body = h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'table' },
        h('caption', { class: 'visually-hidden' }, 'Instant recovery mounts'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['VM', 'State', 'Session', 'Actions'].map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        h(
          'tbody',
          {},
          mounts.data.length === 0
            ? h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'No VM is running from a backup.'))
            : mounts.data.map((m) =>
                h(
                  'tr',
                  { key: m.id },
                  h('td', {}, h('strong', {}, m.vmName), m.errorMessage ? h('div', { class: 'muted' }, m.errorMessage) : null),
                  h('td', {}, badge(m.state)),
                  h('td', {}, h('a', { href: `#/sessions/${m.sessionId}` }, 'Session log')),
                  h(
                    'td',
                    {},
                    m.state === 'Mounted'
                      ? rowActions(
                          ['Migrate', () => void migrateDialog(m, reload).catch((e: Error) => toast(e.message, 'error')), `Migrate ${m.vmName}`],
                          ['Unmount', () => void unmount(m, reload), `Unmount ${m.vmName}`],
                        )
                      : '',
                  ),
                ),
              ),
        ),
      ),
    );
  return h(
    'div',
    {},
    pageHeader('Restores'),
    h('p', { class: 'muted' }, 'Start a restore from a ', h('a', { href: '#/restore-points' }, 'restore point'), '. VMs running from a backup (instant recovery) are listed here.'),
    h('h2', {}, 'Instant recovery mounts'),
    h('div', {}, body),
  );
}
