import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get } from './api.js';
import { badge, formatDate, notice } from './dom.js';

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

export function progressBar(percent: number | undefined, label: string): VNode {
  return (
    <progress max={100} value={percent ?? 0} aria-label={label}>
      {`${percent ?? 0}%`}
    </progress>
  );
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Shows a session and follows it live: state, progress and the log, oldest record first, until
 * it stops or the component is gone; `onStopped` hears the last state.
 */
export function SessionLog(props: {
  id: string;
  // Automation (import) sessions live under their own path.
  base?: string;
  onStopped?: (session: Session) => void;
  onError?: (error: unknown) => void;
}): VNode {
  const base = props.base ?? '/api/v1/sessions';
  const [state, setState] = useState<{ session: Session; records: LogRecord[] }>();
  useEffect(() => {
    let live = true;
    void (async () => {
      for (let delay = 250; live; delay = Math.min(delay * 1.5, 1500)) {
        const [session, logs] = await Promise.all([get<Session>(`${base}/${props.id}`), get<{ records: LogRecord[] }>(`${base}/${props.id}/logs`)]);
        if (!live) return;
        // The API lists newest first; a log reads best top to bottom.
        setState({ session, records: [...logs.records].reverse() });
        if (session.state === 'Stopped') return props.onStopped?.(session);
        await wait(delay);
      }
    })().catch((error: unknown) => {
      if (live) props.onError?.(error);
    });
    return () => {
      live = false;
    };
  }, [props.id, base]);
  const session = state?.session;
  return (
    <>
      <div class="session-head">
        {session ? (
          <>
            <div class="session-line">
              <strong>{session.name}</strong> {badge(session.state)}
              {session.result && session.state === 'Stopped' ? badge(session.result.result) : null}
            </div>
            {session.state === 'Stopped' ? null : progressBar(session.progressPercent, `${session.name} progress`)}
            {session.state === 'Stopped' && session.result?.message
              ? notice(session.result.result === 'Success' ? 'success' : session.result.result === 'Warning' ? 'warning' : 'error', session.result.message)
              : null}
          </>
        ) : null}
      </div>
      <ol class="log" aria-label="Session log" aria-live="polite">
        {(state?.records ?? []).map((r) => (
          <li key={r.id} class={`log-${r.status.toLowerCase()}`}>
            <time dateTime={r.startTime}>{formatDate(r.startTime)}</time> {badge(r.status)} <span>{r.title}</span>
            {r.description ? <div class="log-description">{r.description}</div> : null}
          </li>
        ))}
      </ol>
    </>
  );
}
