import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { GENERAL_OPTIONS } from '../../revisions/replies/general-options.js';
import { GeneralOptionsModel, GeneralOptionsSpec, type GeneralOptions } from './schemas.js';
import type { GeneralOptionsService } from './service.js';
import type { Notifications } from './notifications.js';

const tags = ['General Options'];
const read = { apiFamily: 'vbr', access: 'Viewer', reply: { body: GENERAL_OPTIONS } } as const;
const write = { apiFamily: 'vbr', access: 'Administrator', reply: { body: GENERAL_OPTIONS } } as const;

/** Both spellings of the email switch; the reply shape keeps the one the revision's document has. */
const model = (o: GeneralOptions) => ({ ...o, emailSettings: { isEnabled: o.notificationEnabled, ...o.emailSettings } });

/** /api/v1/generalOptions: email settings and notifications, used for real (api/general-options/notifications.ts). */
export function generalOptionsRoutes(app: FastifyInstance, deps: { generalOptions: GeneralOptionsService; notifications: Notifications }): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const prefix = '/api/v1/generalOptions';

  typed.get(prefix, { config: read, schema: { tags, summary: 'Get notification settings', response: { 200: GeneralOptionsModel } } }, async () =>
    model(await deps.generalOptions.get()),
  );

  typed.put(
    prefix,
    { config: write, schema: { tags, summary: 'Edit notification settings', body: GeneralOptionsSpec, response: { 200: GeneralOptionsModel } } },
    async (request) => {
      const saved = await deps.generalOptions.update(request.body);
      // A certificate already inside its warning days is reported as soon as mail can go out.
      deps.notifications.checkCertificate();
      return model(saved);
    },
  );

  typed.post(
    `${prefix}/emailSettings/testMessage`,
    { config: { apiFamily: 'vbr', access: 'Administrator' }, schema: { tags, summary: 'Send test email (1.3-rev2)' } },
    async (_request, reply) => {
      await deps.generalOptions.sendTestMessage();
      return reply.code(204).send();
    },
  );
}
