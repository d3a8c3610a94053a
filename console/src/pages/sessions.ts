import { get, post } from '../api.js';
import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { badge, formatDate, h, toast } from '../dom.js';
import { confirmAction } from '../dialog.js';
import { ListView, type Column, type Filter } from '../list-view.js';
import { pageHeader } from '../crud.js';
import { useLoad, useReload } from '../hooks.js';
import { SessionLog, progressBar, type Session } from '../session-log.js';

const option = (v: string) => ({ value: v, label: v });

/** Every session, newest first, filtered and paged by the API. */
export function SessionsPage(): VNode {
  const [tick, reload] = useReload();
  return h(
    'div',
    {},
    pageHeader('Sessions', h('button', { type: 'button', class: 'btn btn-plain', onclick: reload }, 'Refresh')),
    // The API's own default page; drawn in well under 100 ms (npm run bench:console).
    h(ListView<Session>, { url: '/api/v1/sessions', caption: 'Sessions', limit: 200, filters: FILTERS, columns: COLUMNS, reload: tick }),
  );
}

const FILTERS: Filter[] = [
  { param: 'nameFilter', label: 'Name' },
  { param: 'stateFilter', label: 'State', options: ['Working', 'Stopped', 'Starting', 'Stopping'].map(option) },
  { param: 'resultFilter', label: 'Result', options: ['Success', 'Warning', 'Failed', 'None'].map(option) },
  {
    param: 'typeFilter',
    label: 'Type',
    options: ['Infrastructure', 'InfrastructureItemDeletion', 'RepositoryMaintenance', 'RepositoryEvacuate', 'ConfigurationResynchronize', 'BackgroundOperation'].map(option),
  },
];

const COLUMNS: Column<Session>[] = [
  { label: 'Name', cell: (s) => h('a', { href: `#/sessions/${s.id}` }, s.name), order: 'Name', width: 'minmax(0, 1.8fr)' },
  { label: 'Type', cell: (s) => s.sessionType, order: 'SessionType', width: 'minmax(0, 1.7fr)' },
  {
    label: 'State',
    cell: (s) => (s.state === 'Stopped' ? badge(s.state) : h('div', {}, badge(s.state), progressBar(s.progressPercent, `${s.name} progress`))),
    order: 'State',
    width: '6.5rem',
  },
  { label: 'Result', cell: (s) => (s.state === 'Stopped' ? badge(s.result?.result) : '—'), order: 'Result', width: '6.75rem' },
  { label: 'Started', cell: (s) => formatDate(s.creationTime), order: 'CreationTime', width: '9rem' },
  { label: 'Ended', cell: (s) => formatDate(s.endTime), order: 'EndTime', width: '9rem' },
  { label: 'Message', cell: (s) => s.result?.message ?? '', class: 'message', width: 'minmax(0, 2.6fr)' },
];

/** One session; its log follows it live while it runs. */
export function SessionPage({ id }: { id?: string }): VNode | null {
  const first = useLoad(() => get<Session>(`/api/v1/sessions/${id}`), [id]);
  const [stopped, setStopped] = useState(false);
  if (!first) return null;
  const stop = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-danger',
      hidden: stopped || first.state === 'Stopped',
      onclick: async () => {
        if (!(await confirmAction(`Stop ${first.name}?`, h('p', {}, 'The session stops at its next safe point and ends Failed (canceled).'), 'Stop session', true))) return;
        await post(`/api/v1/sessions/${id}/stop`).catch((error: Error) => toast(error.message, 'error'));
      },
    },
    'Stop',
  );
  return h(
    'div',
    {},
    h('p', {}, h('a', { href: '#/sessions' }, '‹ All sessions')),
    pageHeader(first.name, stop),
    h('p', { class: 'muted' }, `${first.sessionType} · started ${formatDate(first.creationTime)}`),
    h('div', { class: 'card session-view' }, h(SessionLog, { id: first.id, onStopped: () => setStopped(true) })),
  );
}
