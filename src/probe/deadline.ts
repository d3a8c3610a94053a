import { ProbeError, describeTarget } from './errors.js';

/** The longest any single probe may take, whatever the caller asks for. */
export const MAX_PROBE_TIMEOUT_MS = 10_000;

export interface ProbeOptions {
  /** Clamped to 1..MAX_PROBE_TIMEOUT_MS. */
  timeoutMs: number;
  /** Aborts the probe (a stopped session, a batch deadline). */
  signal?: AbortSignal;
}

/** Where a probe stands, so a timeout can say what did not answer. */
export interface ProbeProgress {
  phase: 'connect' | 'tls' | 'ssh' | 'auth' | 'command' | 'http';
}

const phaseWords: Record<ProbeProgress['phase'], string> = {
  connect: 'no TCP connection could be made',
  tls: 'the TCP connection opened but no TLS handshake completed',
  ssh: 'the TCP connection opened but no SSH key exchange completed',
  auth: 'the SSH login did not complete',
  command: 'the command on the host did not finish',
  http: 'the TLS connection opened but no HTTP answer came',
};

export function clampTimeout(timeoutMs: number): number {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) return MAX_PROBE_TIMEOUT_MS;
  return Math.min(Math.max(1, Math.floor(timeoutMs)), MAX_PROBE_TIMEOUT_MS);
}

/**
 * Runs `work` under one deadline. The work gets a signal that fires on timeout
 * or when the caller's signal does, and must close its sockets when it fires;
 * the returned promise settles at that moment either way, so nothing can hang
 * past the deadline. What the work returns in time (an open SSH session) stays open.
 */
export async function withinDeadline<T>(host: string, port: number, options: ProbeOptions, work: (signal: AbortSignal, progress: ProbeProgress) => Promise<T>): Promise<T> {
  const timeoutMs = clampTimeout(options.timeoutMs);
  const target = describeTarget(host, port);
  const progress: ProbeProgress = { phase: 'connect' };
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const forward = () => controller.abort();
  options.signal?.addEventListener('abort', forward, { once: true });
  if (options.signal?.aborted) controller.abort();
  const aborted = new Promise<never>((_, reject) => {
    const fail = () =>
      reject(
        timedOut
          ? new ProbeError('TimedOut', `${target} timed out after ${timeoutMs} ms: ${phaseWords[progress.phase]}.`)
          : new ProbeError('Canceled', `The probe of ${target} was canceled.`),
      );
    if (controller.signal.aborted) fail();
    else controller.signal.addEventListener('abort', fail, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    return await Promise.race([work(controller.signal, progress), aborted]);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', forward);
  }
}
