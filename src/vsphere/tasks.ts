import { VsphereError } from './errors.js';
import { retrieveObject } from './property-collector.js';
import type { VsphereSession } from './session.js';
import { child, childText, toMoref, xsiType, type ManagedObjectReference, type XmlNode } from './xml.js';

/**
 * Waiting for vSphere tasks by polling `info` through the property collector
 * (simpler than WaitForUpdatesEx and works the same on vcsim and vCenter).
 */

export interface TaskOutcome {
  /** `info.result` as parsed (a moref for CreateSnapshot/CreateVM, …). */
  result: XmlNode | undefined;
}

const POLL_START_MS = 50;
const POLL_MAX_MS = 1000;

export async function waitForTask(
  session: VsphereSession,
  task: ManagedObjectReference,
  what: string,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<TaskOutcome> {
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  let delay = POLL_START_MS;
  for (;;) {
    const found = await retrieveObject(session, task, ['info']);
    const info = found?.props.get('info');
    const state = childText(info, 'state');
    if (state === 'success') return { result: child(info, 'result') };
    if (state === 'error') {
      const error = child(info, 'error');
      const fault = child(error, 'fault');
      const kind = xsiType(fault) ?? 'TaskFailed';
      const message = childText(error, 'localizedMessage');
      const detail = message && message !== kind && !message.startsWith('*types.') ? `: ${message}` : '';
      throw new VsphereError(kind, `${what} failed on ${session.label}: ${kind}${detail}`, message);
    }
    if (options.signal?.aborted) throw new VsphereError('Canceled', `Stopped waiting for ${what} on ${session.label}`);
    if (Date.now() > deadline) throw new VsphereError('TimedOut', `${what} did not finish on ${session.label} in time`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, POLL_MAX_MS);
  }
}

/** Calls a `*_Task` method and waits for it. */
export async function runTask(session: VsphereSession, method: string, args: Parameters<VsphereSession['call']>[1], what: string, signal?: AbortSignal): Promise<TaskOutcome> {
  const task = toMoref(await session.call(method, args));
  if (!task) throw new VsphereError('NotSoap', `${session.label} returned no task for ${method}`);
  return waitForTask(session, task, what, { signal });
}
