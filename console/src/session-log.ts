import { get } from './api.js';
import { badge, formatDate, h, notice, replace } from './dom.js';

export interface Session {
  id: string;
  name: string;
  sessionType: string;
  state: string;
  creationTime: string;
  endTime?: string;
  progressPercent?: number;
  result?: { result: string; message?: string; isCanceled?: boolean };
  resourceId?: string;
}

interface LogRecord {
  id: number;
  status: string;
  startTime: string;
  title: string;
  description?: string;
}

export function progressBar(percent: number | undefined, label: string): HTMLElement {
  return h('progress', { max: 100, value: percent ?? 0, 'aria-label': label }, `${percent ?? 0}%`);
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Shows a session in `host` and follows it live: state, progress and the log, oldest record
 * first, until it stops (or `isActive` says the view is gone). Resolves with the last state.
 */
export async function followSession(
  id: string,
  host: HTMLElement,
  isActive: () => boolean = () => host.isConnected,
  // Automation (import) sessions live under their own path.
  base = '/api/v1/sessions',
): Promise<Session> {
  const head = h('div', { class: 'session-head' });
  const records = h('ol', { class: 'log', 'aria-label': 'Session log', 'aria-live': 'polite' });
  replace(host, head, records);
  let session: Session;
  for (let delay = 250; ; delay = Math.min(delay * 1.5, 1500)) {
    const [current, logs] = await Promise.all([get<Session>(`${base}/${id}`), get<{ records: LogRecord[] }>(`${base}/${id}/logs`)]);
    session = current;
    replace(
      head,
      h(
        'div',
        { class: 'session-line' },
        h('strong', {}, session.name),
        ' ',
        badge(session.state),
        session.result && session.state === 'Stopped' ? badge(session.result.result) : null,
      ),
      session.state === 'Stopped' ? null : progressBar(session.progressPercent, `${session.name} progress`),
      session.state === 'Stopped' && session.result?.message
        ? notice(session.result.result === 'Success' ? 'success' : session.result.result === 'Warning' ? 'warning' : 'error', session.result.message)
        : null,
    );
    // The API lists newest first; a log reads best top to bottom.
    const ordered = [...logs.records].reverse();
    replace(
      records,
      ordered.map((r) =>
        h(
          'li',
          { class: `log-${r.status.toLowerCase()}` },
          h('time', { datetime: r.startTime }, formatDate(r.startTime)),
          ' ',
          badge(r.status),
          ' ',
          h('span', {}, r.title),
          r.description ? h('div', { class: 'log-description' }, r.description) : null,
        ),
      ),
    );
    if (session.state === 'Stopped' || !isActive()) return session;
    await wait(delay);
  }
}
