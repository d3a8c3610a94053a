import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { EmptySuccessSchema } from '../../http/schemas.js';
import { CloudBrowserModel, CloudBrowserNewFolderSpec, CloudBrowserQuery, CloudBrowserSpec } from './schemas.js';
import type { CloudBrowserService } from './service.js';

const tags = ['Cloud Browser'];
const config = { apiFamily: 'vbr', access: 'Administrator' } as const;

/** /api/v1/cloudBrowser: buckets and folders reachable with a cloud credentials record. */
export function cloudBrowserRoutes(app: FastifyInstance, deps: { cloudBrowser: CloudBrowserService }): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.post(
    '/api/v1/cloudBrowser',
    { config, schema: { tags, summary: 'Get cloud hierarchy', querystring: CloudBrowserQuery, body: CloudBrowserSpec, response: { 200: CloudBrowserModel } } },
    async (request) => deps.cloudBrowser.browse(request.body),
  );
  typed.post(
    '/api/v1/cloudBrowser/newFolder',
    { config, schema: { tags, summary: 'Create new cloud folder', body: CloudBrowserNewFolderSpec, response: { 201: EmptySuccessSchema } } },
    async (request, reply) => {
      await deps.cloudBrowser.newFolder(request.body);
      return reply.code(201).send({});
    },
  );
}
