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
        paths: [
          'password',
          '*.password',
          'secret',
          '*.secret',
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'privateKey',
          '*.privateKey',
          'passphrase',
          '*.passphrase',
          // Vault secrets (credentials, cloud credentials, encryption passwords, Azure registration).
          'rootPassword',
          '*.rootPassword',
          'secretKey',
          '*.secretKey',
          'newSecretKey',
          '*.newSecretKey',
          'sharedKey',
          '*.sharedKey',
          'secretText',
          '*.secretText',
          'device_code',
          '*.device_code',
          'access_token',
          '*.access_token',
          'masterKey',
          '*.masterKey',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
