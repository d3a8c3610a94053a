import { h, notice, replace, toast } from './dom.js';
import { openDialog, type Dialog } from './dialog.js';
import { followSession, type Session } from './session-log.js';

/** Runs a call that starts a session and streams the session's log into the dialog until it stops. */
export async function runInDialog(dialog: Dialog, start: () => Promise<Session>, done: () => void): Promise<Session | undefined> {
  const host = h('div', { class: 'session-view' });
  replace(dialog.body, host);
  let session: Session;
  try {
    session = await start();
  } catch (error) {
    replace(dialog.body, notice('error', error instanceof Error ? error.message : String(error)));
    return undefined;
  }
  const last = await followSession(session.id, host, () => dialog.element.open);
  dialog.body.append(h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'btn btn-primary', onclick: () => dialog.close() }, 'Close')));
  if (last.state === 'Stopped' && last.result?.result !== 'Failed') toast(`${last.name}: ${last.result?.result ?? last.state}`);
  done();
  return last;
}

/** A dialog of its own that shows one session start to end. */
export const sessionDialog = (title: string, start: () => Promise<Session>, done: () => void) =>
  runInDialog(
    openDialog(title, () => [], { wide: true }),
    start,
    done,
  );
