import { get, getIfPresent, type Page } from '../api.js';
import type { ComponentChildren, VNode } from 'preact';
import { useState } from 'preact/hooks';
import { ago, badge, formatDate, gb, h, notice } from '../dom.js';
import { useInterval, useLoad } from '../hooks.js';
import { progressBar, type Session } from '../session-log.js';

interface ServerInfo {
  name: string;
  buildVersion: string;
  productVersion?: string;
  certificateExpiresSoon?: boolean;
  certificateValidBy?: string;
}

export interface RepositoryState {
  id: string;
  name: string;
  type: string;
  description: string;
  hostName?: string;
  path?: string;
  capacityGB: number;
  freeGB: number;
  usedSpaceGB: number;
  isOnline: boolean;
  capacitySource: string;
  measuredAt: string | null;
  statusMessage: string | null;
}

interface JobState {
  id: string;
  name: string;
  type: string;
  status: string;
  lastResult: string;
  lastRun?: string;
  nextRun?: string;
}

/** Figures older than this are marked out of date (the refresher runs every 5 minutes by default). */
const STALE_MS = 15 * 60_000;

export function capacityBar(state: RepositoryState): VNode {
  const stale = !state.measuredAt || Date.now() - Date.parse(state.measuredAt) > STALE_MS;
  const known = state.capacityGB > 0;
  // As df shows it: used against used + free, since blocks reserved for root count in neither.
  const usable = state.usedSpaceGB + state.freeGB > 0 ? Math.min(state.capacityGB, state.usedSpaceGB + state.freeGB) : state.capacityGB;
  const label = known ? `${gb(state.usedSpaceGB)} used, ${gb(state.freeGB)} free of ${gb(state.capacityGB)}` : `capacity unknown (${gb(state.usedSpaceGB)} used)`;
  return h(
    'div',
    { class: `capacity${stale ? ' stale' : ''}` },
    known
      ? h('meter', {
          min: 0,
          max: usable,
          value: state.usedSpaceGB,
          low: usable * 0.75,
          high: usable * 0.9,
          optimum: 0,
          'aria-label': `${state.name}: ${label}`,
        })
      : null,
    h('span', { class: 'capacity-text' }, label),
    h('span', { class: 'measured' }, stale ? h('strong', { class: 'stale-mark' }, `out of date (measured ${ago(state.measuredAt)})`) : `measured ${ago(state.measuredAt)}`),
  );
}

function card(title: string, ...content: ComponentChildren[]): VNode {
  return h('section', { class: 'card', 'aria-label': title }, h('h2', {}, title), ...content);
}

function sessionRow(s: Session): VNode {
  return h(
    'li',
    { class: 'session-item' },
    h('a', { href: `#/sessions/${s.id}` }, s.name),
    ' ',
    badge(s.state === 'Stopped' ? s.result?.result : s.state),
    s.state === 'Stopped'
      ? h('div', { class: 'muted' }, formatDate(s.endTime), s.result?.message ? ` · ${s.result.message}` : '')
      : progressBar(s.progressPercent, `${s.name} progress`),
  );
}

/** Server, certificate, repositories, jobs (when the server has them), running sessions, failures of the last 24 h. */
export function DashboardPage(): VNode {
  // Refresh while the dashboard is shown.
  const [tick, setTick] = useState(0);
  useInterval(() => setTick((n) => n + 1), 5000);
  const data = useLoad(load, [tick], true);
  return h('div', {}, h('h1', {}, 'Dashboard'), data ? draw(data) : null);
}

async function load() {
  const since = new Date(Date.now() - 24 * 3600_000).toISOString();
  const [info, states, working, failed, jobStates] = await Promise.all([
    get<ServerInfo>('/api/v1/serverInfo'),
    get<Page<RepositoryState>>('/api/v1/backupInfrastructure/repositories/states', { limit: 20, orderColumn: 'Name' }),
    get<Page<Session>>('/api/v1/sessions', { stateFilter: 'Working', limit: 20 }),
    get<Page<Session>>('/api/v1/sessions', { resultFilter: 'Failed', endedAfterFilter: since, limit: 20 }),
    getIfPresent<Page<JobState>>('/api/v1/jobs/states', { limit: 20 }),
  ]);
  return { info, states, working, failed, jobStates };
}

function draw({ info, states, working, failed, jobStates }: Awaited<ReturnType<typeof load>>): VNode[] {
  const server = h(
    'div',
    {},
    h(
      'section',
      { class: 'server-summary', 'aria-label': 'Server' },
      h('div', {}, h('span', { class: 'muted' }, 'Server '), h('strong', { class: 'server-name' }, info.name)),
      h('div', {}, h('span', { class: 'muted' }, 'Version '), h('strong', { class: 'server-version' }, info.productVersion ?? info.buildVersion)),
      info.certificateValidBy ? h('div', {}, h('span', { class: 'muted' }, 'Certificate valid until '), h('strong', {}, formatDate(info.certificateValidBy))) : null,
    ),
    info.certificateExpiresSoon
      ? notice('warning', `The server certificate expires on ${formatDate(info.certificateValidBy)}. `, h('a', { href: '#/certificate' }, 'Recreate or upload a certificate'))
      : null,
  );
  const repos = h(
    'div',
    {},
    card(
      'Repositories',
      states.data.length === 0
        ? h('p', { class: 'muted' }, 'No repositories yet. ', h('a', { href: '#/repositories' }, 'Add one'))
        : h(
            'ul',
            { class: 'repo-list' },
            states.data.map((s) =>
              h(
                'li',
                {},
                h('div', { class: 'repo-name' }, h('strong', {}, s.name), ' ', badge(s.isOnline ? 'Online' : 'Offline'), h('span', { class: 'muted' }, ` ${s.type}`)),
                capacityBar(s),
                s.statusMessage && !s.isOnline ? h('div', { class: 'muted' }, s.statusMessage) : null,
              ),
            ),
          ),
      states.pagination.total > states.data.length ? h('a', { href: '#/repositories' }, `All ${states.pagination.total} repositories`) : null,
    ),
  );
  const running = h(
    'div',
    {},
    card('Running sessions', working.data.length === 0 ? h('p', { class: 'muted' }, 'Nothing is running.') : h('ul', { class: 'session-list' }, working.data.map(sessionRow))),
  );
  const failures = h(
    'div',
    {},
    card(
      'Failures in the last 24 hours',
      failed.data.length === 0 ? h('p', { class: 'muted' }, 'No failures.') : h('ul', { class: 'session-list' }, failed.data.map(sessionRow)),
      failed.pagination.total > failed.data.length ? h('a', { href: '#/sessions' }, `All ${failed.pagination.total} failures`) : null,
    ),
  );
  // Jobs: shown when the server has the jobs section; a 404 hides the panel.
  const jobs = h(
    'div',
    {},
    jobStates
      ? card(
          'Jobs',
          jobStates.data.length === 0
            ? h('p', { class: 'muted' }, 'No jobs yet.')
            : h(
                'table',
                { class: 'table compact' },
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    ['Job', 'Status', 'Last result', 'Last run', 'Next run'].map((c) => h('th', { scope: 'col' }, c)),
                  ),
                ),
                h(
                  'tbody',
                  {},
                  jobStates.data.map((j) =>
                    h(
                      'tr',
                      {},
                      h('td', {}, j.name),
                      h('td', {}, badge(j.status)),
                      h('td', {}, badge(j.lastResult)),
                      h('td', {}, formatDate(j.lastRun)),
                      h('td', {}, formatDate(j.nextRun)),
                    ),
                  ),
                ),
              ),
        )
      : null,
  );
  return [server, h('div', { class: 'grid' }, repos, running, jobs, failures)];
}
