import type { VNode } from 'preact';
import { get, post } from '../api.js';
import { h } from '../dom.js';
import { useLoad, useReload } from '../hooks.js';
import { pageHeader } from '../crud.js';
import { confirmAction } from '../dialog.js';
import { sessionDialog } from '../session-dialog.js';
import type { Session } from '../session-log.js';

interface VaultStatus {
  currentMasterKeyId: string;
  masterKeySource: string;
  masterKeyIds: string[];
  sealedValues: { masterKeyId: string; count: number }[];
  rotationRunning: boolean;
}

/**
 * The secrets vault: which master key seals the stored passwords and keys, and its rotation.
 * Users and roles have no API (Veeam's REST API has none either): the page says where they are managed.
 */
export function SecurityPage(): VNode | null {
  const [tick, reload] = useReload();
  const vault = useLoad(() => get<VaultStatus>('/api/v1/vault'), [tick]);
  if (!vault) return null;
  const status = h(
    'section',
    { class: 'card', 'aria-label': 'Secrets vault' },
    h('h2', {}, 'Secrets vault'),
    h(
      'dl',
      { class: 'details' },
      h('dt', {}, 'Current master key'),
      h('dd', {}, h('code', { class: 'master-key' }, vault.currentMasterKeyId)),
      h('dt', {}, 'Kept in'),
      h('dd', {}, vault.masterKeySource === 'environment' ? 'the RAMPART_MASTER_KEY environment variable' : 'master.key in the data folder'),
      h('dt', {}, 'Sealed secrets'),
      h('dd', {}, vault.sealedValues.length ? vault.sealedValues.map((v) => h('div', {}, `${v.count} under ${v.masterKeyId}`)) : 'none yet'),
      h('dt', {}, 'Rotation'),
      h('dd', {}, vault.rotationRunning ? 'running' : 'not running'),
    ),
  );
  const rotate = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-primary',
      disabled: vault.rotationRunning,
      onclick: async () => {
        const sure = await confirmAction(
          'Rotate the master key?',
          [
            h('p', {}, 'A new master key is made and every stored password, key and passphrase is sealed again under it, as a session.'),
            h('p', {}, 'Back up the new key (or the configuration) afterwards: backups of the data folder made before hold only the old one.'),
          ],
          'Rotate master key',
        );
        if (sure) await sessionDialog('Master key rotation', () => post<Session>('/api/v1/vault/rotateMasterKey'), reload);
      },
    },
    'Rotate master key',
  );
  return h(
    'div',
    {},
    pageHeader('Security', rotate),
    status,
    h(
      'section',
      { class: 'card', 'aria-label': 'Users and roles' },
      h('h2', {}, 'Users and roles'),
      h('p', {}, 'Users, their roles (Administrator, Operator, Viewer) and passwords are managed on the server with the command line; the API has no users section:'),
      h(
        'pre',
        {},
        'npm run rampart -- user list\nnpm run rampart -- user add NAME --role Operator --password-stdin\nnpm run rampart -- user role NAME Viewer\nnpm run rampart -- user passwd NAME',
      ),
    ),
  );
}
