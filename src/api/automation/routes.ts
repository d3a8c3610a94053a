import type { FastifyInstance } from 'fastify';
import { typedRequests } from '../../http/typed-requests.js';
import { badRequest } from '../../http/errors.js';
import { SessionModel } from '../sessions/schemas.js';
import { sessionModel, type SessionsService } from '../sessions/service.js';
import { sessionsRoutes } from '../sessions/routes.js';
import { ExportQuery, ImportQuery, SEAL_PASSPHRASE_HEADER } from './schemas.js';
import type { AutomationService } from './service.js';

const tags = ['Automation'];
const admin = { apiFamily: 'vbr', access: 'Administrator' } as const;

/** The passphrase travels in a header so it is never part of a logged or stored body. */
function passphraseOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const value = headers[SEAL_PASSPHRASE_HEADER];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** /api/v1/automation: export/import of each section and the automation sessions. */
export function automationRoutes(app: FastifyInstance, deps: { automation: AutomationService; sessions: SessionsService; importBodyLimitBytes: number }): void {
  const typed = typedRequests(app);
  for (const section of deps.automation.all) {
    const base = `/api/v1/automation/${section.kind}`;
    typed.post(
      `${base}/export`,
      {
        config: { ...admin, ...(section.exportReply ? { reply: { body: section.exportReply } } : {}) },
        schema: { tags, summary: `Export ${section.kind}`, querystring: ExportQuery, body: section.exportSchema, response: { 200: section.importSchema } },
      },
      async (request) => {
        const { seal } = request.query;
        const passphrase = passphraseOf(request.headers);
        if (seal && !passphrase) throw badRequest(`A sealed export needs its passphrase in the ${SEAL_PASSPHRASE_HEADER} header.`);
        return deps.automation.export(section.kind, request.body ?? {}, seal ? passphrase : undefined);
      },
    );
    typed.post(
      `${base}/import`,
      {
        config: admin,
        bodyLimit: deps.importBodyLimitBytes,
        schema: { tags, summary: `Import ${section.kind}`, querystring: ImportQuery, body: section.importSchema, response: { 201: SessionModel } },
      },
      async (request, reply) => {
        const q = request.query;
        const session = await deps.automation.startImport([{ kind: section.kind, collection: request.body }], {
          onConflict: q.onConflict,
          dryRun: q.dryRun,
          passphrase: passphraseOf(request.headers),
          createdBy: request.principal?.userName,
        });
        return reply.code(201).send(sessionModel(session, request.apiRevision));
      },
    );
  }
  sessionsRoutes(app, { sessions: deps.sessions }, '/api/v1/automation/sessions', true);
}
