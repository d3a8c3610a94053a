import type { Logger } from 'pino';
import type { ServingCertificate } from './serving-certificate.js';

const DAY_MS = 86_400_000;

/**
 * Logs a warning at start and then once a day while the serving certificate is
 * within `warningDays` of its validBy date. Returns a function that stops it.
 */
export function startExpiryWarnings(serving: ServingCertificate, warningDays: number, logger: Logger): () => void {
  const check = () => {
    const { description } = serving.current;
    const msLeft = description.validBy.getTime() - Date.now();
    if (msLeft < warningDays * DAY_MS) {
      logger.warn(
        { thumbprint: description.thumbprint, validBy: description.validBy.toISOString(), daysLeft: Math.floor(msLeft / DAY_MS) },
        msLeft <= 0 ? 'the server certificate has expired; regenerate or upload a new one' : 'the server certificate expires soon; regenerate or upload a new one',
      );
    }
  };
  check();
  const timer = setInterval(check, DAY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
