import type { VNode } from 'preact';
import { del, post, put } from '../api.js';
import { formatDate, h } from '../dom.js';
import { confirmRemove, formDialog, listPage, rowActions } from '../crud.js';
import { text } from '../forms.js';

interface EncryptionPassword {
  id: string;
  hint: string;
  modificationTime?: string;
  tag?: string;
}

const URL = '/api/v1/encryptionPasswords';

/** Passwords backups are encrypted with: only the hint is ever shown. */
export function EncryptionPasswordsPage(): VNode {
  return listPage<EncryptionPassword>('Encryption passwords', {
    url: URL,
    filters: [],
    intro: h('p', { class: 'muted' }, 'A lost encryption password cannot be recovered: Rampart never shows it again. Keep the hint meaningful.'),
    add: (reload) =>
      formDialog(
        'Add encryption password',
        [
          { name: 'password', label: 'Password', type: 'password', required: true },
          { name: 'hint', label: 'Hint', required: true },
          { name: 'tag', label: 'Tag' },
        ],
        'Add',
        (v) => post(URL, { password: String(v.password), hint: text(v, 'hint'), ...(text(v, 'tag') ? { tag: text(v, 'tag') } : {}) }),
        'Encryption password added',
        reload,
      ),
    columns: (reload) => [
      { label: 'Hint', cell: (p) => p.hint, order: 'Hint' },
      { label: 'Tag', cell: (p) => p.tag ?? '' },
      { label: 'Modified', cell: (p) => formatDate(p.modificationTime), order: 'ModificationTime' },
      {
        label: 'Actions',
        cell: (p) =>
          rowActions(
            [
              'Edit',
              () =>
                formDialog(
                  `Edit ${p.hint}`,
                  [
                    { name: 'hint', label: 'Hint', value: p.hint, required: true },
                    { name: 'tag', label: 'Tag', value: p.tag ?? '' },
                  ],
                  'Save',
                  (v) => put(URL + `/${p.id}`, { hint: text(v, 'hint'), ...(text(v, 'tag') ? { tag: text(v, 'tag') } : {}) }),
                  'Encryption password saved',
                  reload,
                ),
              `Edit ${p.hint}`,
            ],
            [
              'Change password',
              () =>
                formDialog(
                  `Change the password with hint ${p.hint}`,
                  [
                    { name: 'password', label: 'New password', type: 'password', required: true },
                    { name: 'hint', label: 'Hint', value: p.hint, required: true },
                  ],
                  'Change password',
                  (v) => post(`${URL}/${p.id}/changepassword`, { password: String(v.password), hint: text(v, 'hint') }, '1.2-rev1'),
                  'Encryption password changed',
                  reload,
                ),
              `Change the password with hint ${p.hint}`,
            ],
            ['Remove', () => void confirmRemove(`Encryption password ${p.hint}`, () => del(`${URL}/${p.id}`), reload), `Remove ${p.hint}`],
          ),
      },
    ],
  });
}
