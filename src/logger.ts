import pino, { type Logger } from 'pino';
import type { RampartConfig } from './config.js';

/**
 * Structured JSON logs. Redaction is a second line of defence: nothing should log
 * these fields in the first place.
 */
export function createLogger(config: Pick<RampartConfig, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'rampart' },
      redact: {
        paths: ['password', '*.password', 'secret', '*.secret', 'token', '*.token', 'authorization', '*.authorization', 'privateKey', '*.privateKey', 'passphrase', '*.passphrase'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
