import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { formatInstant } from '../../http/dates.js';
import { SessionModel as SessionModelSchema } from '../sessions/schemas.js';
import { sessionModel } from '../sessions/service.js';
import { ConfigBackupModel, NO_PASSWORD_ID, type ConfigBackupSettings } from './schemas.js';
import type { ConfigBackupService } from './service.js';
import { CONFIG_BACKUP } from '../../revisions/replies/config-backup.js';

const tags = ['Configuration Backup'];
const read = { apiFamily: 'vbr', access: 'Viewer' } as const;
const write = { apiFamily: 'vbr', access: 'Administrator' } as const;
const settingsReply = { reply: { body: CONFIG_BACKUP } };

const model = (s: ConfigBackupSettings) => ({
  ...s,
  encryption: { ...s.encryption, passwordId: s.encryption.passwordId ?? NO_PASSWORD_ID },
  lastSuccessfulBackup: { ...s.lastSuccessfulBackup, lastSuccessfulTime: formatInstant(s.lastSuccessfulBackup.lastSuccessfulTime) ?? undefined },
});

/** /api/v1/configBackup: the configuration backup's settings and a backup run now. */
export function configBackupRoutes(app: FastifyInstance, deps: { configBackup: ConfigBackupService }): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const prefix = '/api/v1/configBackup';
  typed.get(prefix, { config: { ...read, ...settingsReply }, schema: { tags, summary: 'Get configuration backup', response: { 200: ConfigBackupModel } } }, async () =>
    model(await deps.configBackup.get()),
  );
  typed.put(
    prefix,
    { config: { ...write, ...settingsReply }, schema: { tags, summary: 'Edit configuration backup', body: ConfigBackupModel, response: { 200: ConfigBackupModel } } },
    async (request) => model(await deps.configBackup.update(request.body)),
  );
  app.post(`${prefix}/backup`, { config: write, schema: { tags, summary: 'Start configuration backup', response: { 200: SessionModelSchema } } }, async (request, reply) =>
    reply.code(200).send(sessionModel(await deps.configBackup.backupNow(request.principal?.userName), request.apiRevision)),
  );
}
