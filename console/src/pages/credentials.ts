import type { VNode } from 'preact';
import { del, post, put } from '../api.js';
import { formatDate, h } from '../dom.js';
import { confirmRemove, formDialog, listPage, rowActions } from '../crud.js';
import { num, optionalText, text, type Values } from '../forms.js';

export interface Credentials {
  id: string;
  username: string;
  description: string;
  type: 'Standard' | 'Linux';
  creationTime: string;
  SSHPort?: number;
  elevateToRoot?: boolean;
  addToSudoers?: boolean;
  useSu?: boolean;
}

const URL = '/api/v1/credentials';
const isLinux = (v: Values) => v.type === 'Linux';

function linuxExtras(values: Values) {
  return values.type === 'Linux' ? { SSHPort: num(values, 'SSHPort') ?? 22, elevateToRoot: Boolean(values.elevateToRoot) } : {};
}

/** Accounts Rampart logs in with. Passwords and keys are write-only: set or changed, never shown. */
export function CredentialsPage(): VNode {
  return listPage<Credentials>('Credentials', {
    url: URL,
    filters: [
      { param: 'nameFilter', label: 'User name' },
      { param: 'typeFilter', label: 'Type', options: ['Standard', 'Linux'].map((v) => ({ value: v, label: v })) },
    ],
    intro: h('p', { class: 'muted' }, 'Passwords, private keys and passphrases are stored sealed and are never shown again: you can only replace them.'),
    add: (reload) =>
      formDialog(
        'Add credentials',
        [
          {
            name: 'type',
            label: 'Type',
            type: 'select',
            options: [
              { value: 'Standard', label: 'Standard (Windows, vSphere, shares)' },
              { value: 'Linux', label: 'Linux (SSH)' },
            ],
          },
          { name: 'username', label: 'User name', required: true },
          { name: 'password', label: 'Password', type: 'password' },
          { name: 'description', label: 'Description' },
          { name: 'SSHPort', label: 'SSH port', type: 'number', value: 22, min: 1, max: 65535, when: isLinux },
          { name: 'privateKey', label: 'Private key (OpenSSH or PuTTY format, instead of a password)', type: 'textarea', when: isLinux },
          { name: 'passphrase', label: 'Passphrase of the private key', type: 'password', when: isLinux },
          { name: 'elevateToRoot', label: 'Elevate to root (sudo)', type: 'checkbox', when: isLinux },
        ],
        'Add',
        (v) =>
          post(URL, {
            type: v.type,
            username: text(v, 'username'),
            password: String(v.password ?? '') || undefined,
            description: text(v, 'description'),
            ...linuxExtras(v),
            ...(v.type === 'Linux' && optionalText(v, 'privateKey') ? { privateKey: text(v, 'privateKey'), passphrase: String(v.passphrase ?? '') || undefined } : {}),
          }),
        'Credentials added',
        reload,
      ),
    columns: (reload) => [
      { label: 'User name', cell: (c) => c.username, order: 'Username' },
      { label: 'Type', cell: (c) => c.type },
      { label: 'Description', cell: (c) => c.description, order: 'Description' },
      { label: 'Password', cell: () => h('span', { class: 'muted', 'aria-label': 'not shown' }, '••••••') },
      { label: 'Created', cell: (c) => formatDate(c.creationTime) },
      {
        label: 'Actions',
        cell: (c) =>
          rowActions(
            [
              'Edit',
              () =>
                formDialog(
                  `Edit ${c.username}`,
                  [
                    { name: 'username', label: 'User name', value: c.username, required: true },
                    { name: 'description', label: 'Description', value: c.description },
                    ...(c.type === 'Linux' ? [{ name: 'SSHPort', label: 'SSH port', type: 'number' as const, value: c.SSHPort ?? 22, min: 1, max: 65535 }] : []),
                  ],
                  'Save',
                  (v) =>
                    put(`${URL}/${c.id}`, {
                      ...c,
                      username: text(v, 'username'),
                      description: text(v, 'description'),
                      ...(c.type === 'Linux' ? { SSHPort: num(v, 'SSHPort') } : {}),
                    }),
                  'Credentials saved',
                  reload,
                ),
              `Edit ${c.username}`,
            ],
            [
              'Change password',
              () =>
                formDialog(
                  `Change password of ${c.username}`,
                  [{ name: 'password', label: 'New password', type: 'password', required: true }],
                  'Change password',
                  (v) => post(`${URL}/${c.id}/changepassword`, { password: String(v.password) }),
                  'Password changed',
                  reload,
                ),
              `Change password of ${c.username}`,
            ],
            ['Remove', () => void confirmRemove(`Credentials ${c.username}`, () => del(`${URL}/${c.id}`), reload), `Remove ${c.username}`],
          ),
      },
    ],
  });
}
