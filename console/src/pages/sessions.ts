import { get, post } from '../api.js';
import { badge, formatDate, h, replace, toast } from '../dom.js';
import { confirmAction } from '../dialog.js';
import { listView } from '../list-view.js';
import { pageHeader } from '../crud.js';
import { followSession, progressBar, type Session } from '../session-log.js';

const option = (v: string) => ({ value: v, label: v });

/** Every session, newest first, filtered and paged by the API. */
export async function sessionsPage(view: HTMLElement): Promise<void> {
  const list = listView<Session>({
    url: '/api/v1/sessions',
    caption: 'Sessions',
    // The API's own default page; drawn in well under 100 ms (npm run bench:console).
    limit: 200,
    filters: [
      { param: 'nameFilter', label: 'Name' },
      { param: 'stateFilter', label: 'State', options: ['Working', 'Stopped', 'Starting', 'Stopping'].map(option) },
      { param: 'resultFilter', label: 'Result', options: ['Success', 'Warning', 'Failed', 'None'].map(option) },
      {
        param: 'typeFilter',
        label: 'Type',
        options: ['Infrastructure', 'InfrastructureItemDeletion', 'RepositoryMaintenance', 'RepositoryEvacuate', 'ConfigurationResynchronize', 'BackgroundOperation'].map(option),
      },
    ],
    columns: [
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
    ],
  });
  replace(view, pageHeader('Sessions', h('button', { type: 'button', class: 'btn btn-plain', onclick: () => void list.reload() }, 'Refresh')), list.element);
  await list.reload();
}

/** One session; its log follows it live while it runs. */
export async function sessionPage(view: HTMLElement, [id]: string[]): Promise<void> {
  const first = await get<Session>(`/api/v1/sessions/${id}`);
  const stop = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-danger',
      hidden: first.state === 'Stopped',
      onclick: async () => {
        if (!(await confirmAction(`Stop ${first.name}?`, [h('p', {}, 'The session stops at its next safe point and ends Failed (canceled).')], 'Stop session', true))) return;
        await post(`/api/v1/sessions/${id}/stop`).catch((error: Error) => toast(error.message, 'error'));
      },
    },
    'Stop',
  );
  const host = h('div', { class: 'card session-view' });
  replace(
    view,
    h('p', {}, h('a', { href: '#/sessions' }, '‹ All sessions')),
    pageHeader(first.name, stop),
    h('p', { class: 'muted' }, `${first.sessionType} · started ${formatDate(first.creationTime)}`),
    host,
  );
  const last = await followSession(id, host, () => view.isConnected);
  stop.hidden = last.state === 'Stopped';
}
