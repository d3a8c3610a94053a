import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { errorMessage, notice, toast } from './dom.js';
import { openDialog, type Dialog } from './dialog.js';
import { SessionLog, type Session } from './session-log.js';

/** Starts a session and streams its log until it stops; then offers Close. */
function SessionRun(props: { dialog: Dialog; start: () => Promise<Session>; finished: (last: Session | undefined) => void }): VNode {
  const [session, setSession] = useState<Session>();
  const [failure, setFailure] = useState<string>();
  const [stopped, setStopped] = useState(false);
  useEffect(() => {
    props.start().then(setSession, (error: unknown) => {
      setFailure(errorMessage(error));
      props.finished(undefined);
    });
  }, []);
  if (failure) return notice('error', failure);
  return (
    <div class="session-view">
      {session ? (
        <SessionLog
          id={session.id}
          onStopped={(last) => {
            setStopped(true);
            props.finished(last);
          }}
          onError={(error) => {
            setFailure(errorMessage(error));
            props.finished(undefined);
          }}
        />
      ) : null}
      {stopped ? (
        <div class="form-actions">
          <button type="button" class="btn btn-primary" onClick={() => props.dialog.close()}>
            Close
          </button>
        </div>
      ) : null}
    </div>
  );
}

/** Runs a call that starts a session and streams the session's log into the dialog until it stops. */
export function runInDialog(dialog: Dialog, start: () => Promise<Session>, done: () => void): Promise<Session | undefined> {
  return new Promise((resolve) => {
    let over = false;
    const finished = (last: Session | undefined) => {
      if (over) return;
      over = true;
      if (last) {
        if (last.state === 'Stopped' && last.result?.result !== 'Failed') toast(`${last.name}: ${last.result?.result ?? last.state}`);
        done();
      }
      resolve(last);
    };
    // Closed while the session runs: the session goes on on the server; what the dialog was opened from is refreshed.
    dialog.whenClosed(() => {
      if (over) return;
      over = true;
      done();
      resolve(undefined);
    });
    dialog.show(<SessionRun dialog={dialog} start={start} finished={finished} />);
  });
}

/** A dialog of its own that shows one session start to end. */
export const sessionDialog = (title: string, start: () => Promise<Session>, done: () => void): Promise<Session | undefined> =>
  runInDialog(
    openDialog(title, () => null, { wide: true }),
    start,
    done,
  );
