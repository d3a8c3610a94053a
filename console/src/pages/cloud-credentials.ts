import type { VNode } from 'preact';
import { del, post, put } from '../api.js';
import { h } from '../dom.js';
import { confirmRemove, formDialog, listPage, rowActions } from '../crud.js';
import { text, type Values } from '../forms.js';

export interface CloudCredentials {
  id: string;
  type: string;
  description: string;
  tag: string;
  accessKey?: string;
  account?: string;
}

const URL = '/api/v1/cloudCredentials';
const keyed = (v: Values) => v.type === 'Amazon' || v.type === 'Google';
const azure = (v: Values) => v.type === 'AzureStorage';

/** Object storage accounts. Secret keys and shared keys are write-only. */
export function CloudCredentialsPage(): VNode {
  return listPage<CloudCredentials>('Cloud credentials', {
    url: URL,
    filters: [
      { param: 'nameFilter', label: 'Access key or account' },
      { param: 'typeFilter', label: 'Type', options: ['Amazon', 'Google', 'AzureStorage', 'AzureCompute'].map((v) => ({ value: v, label: v })) },
    ],
    intro: h(
      'p',
      { class: 'muted' },
      'Secret keys and shared keys are stored sealed and never shown again. Azure compute accounts (app registrations) are added through the API (POST /api/v1/cloudCredentials).',
    ),
    add: (reload) =>
      formDialog(
        'Add cloud credentials',
        [
          {
            name: 'type',
            label: 'Type',
            type: 'select',
            options: [
              { value: 'Amazon', label: 'Amazon / S3-compatible (access key)' },
              { value: 'Google', label: 'Google Cloud Storage (HMAC key)' },
              { value: 'AzureStorage', label: 'Azure storage account' },
            ],
          },
          { name: 'accessKey', label: 'Access key', required: true, when: keyed },
          { name: 'secretKey', label: 'Secret key', type: 'password', required: true, when: keyed },
          { name: 'account', label: 'Storage account', required: true, when: azure },
          { name: 'sharedKey', label: 'Shared key', type: 'password', required: true, when: azure },
          { name: 'description', label: 'Description' },
        ],
        'Add',
        (v) =>
          post(
            URL,
            keyed(v)
              ? { type: v.type, accessKey: text(v, 'accessKey'), secretKey: String(v.secretKey), description: text(v, 'description') }
              : { type: v.type, account: text(v, 'account'), sharedKey: String(v.sharedKey), description: text(v, 'description') },
          ),
        'Cloud credentials added',
        reload,
      ),
    columns: (reload) => [
      { label: 'Access key / account', cell: (c) => c.accessKey ?? c.account ?? c.tag, order: 'Name' },
      { label: 'Type', cell: (c) => c.type },
      { label: 'Description', cell: (c) => c.description, order: 'Description' },
      { label: 'Secret', cell: () => h('span', { class: 'muted', 'aria-label': 'not shown' }, '••••••') },
      {
        label: 'Actions',
        cell: (c) => {
          const name = c.accessKey ?? c.account ?? c.tag;
          return rowActions(
            [
              'Edit',
              () =>
                formDialog(
                  `Edit ${name}`,
                  [
                    ...(c.accessKey !== undefined ? [{ name: 'accessKey', label: 'Access key', value: c.accessKey, required: true }] : []),
                    { name: 'description', label: 'Description', value: c.description },
                  ],
                  'Save',
                  (v) => put(`${URL}/${c.id}`, { type: c.type, description: text(v, 'description'), ...(c.accessKey !== undefined ? { accessKey: text(v, 'accessKey') } : {}) }),
                  'Cloud credentials saved',
                  reload,
                ),
              `Edit ${name}`,
            ],
            ...(c.type === 'AzureCompute'
              ? []
              : ([
                  [
                    'Change secret key',
                    () =>
                      formDialog(
                        `Change the secret key of ${name}`,
                        [{ name: 'newSecretKey', label: c.type === 'AzureStorage' ? 'New shared key' : 'New secret key', type: 'password', required: true }],
                        'Change key',
                        (v) => post(`${URL}/${c.id}/changeSecretKey`, { newSecretKey: String(v.newSecretKey) }),
                        'Secret key changed',
                        reload,
                      ),
                    `Change the secret key of ${name}`,
                  ],
                ] as [string, () => void, string][])),
            ['Remove', () => void confirmRemove(`Cloud credentials ${name}`, () => del(`${URL}/${c.id}`), reload), `Remove ${name}`],
          );
        },
      },
    ],
  });
}
