import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import { typedRequests } from '../../http/typed-requests.js';
import { listQuerySchema, pageRequestFrom, pagination, PaginationSchema } from '../../http/paging.js';

const ServiceModel = Type.Object({ name: Type.String(), port: Type.Integer() });
const ORDER = { Name: 'name', Port: 'port' } as const;

/**
 * The services this server runs and the ports they listen on. The list is the
 * process's own (not stored), so it is paged in memory with the same rules as SQL lists.
 */
export function servicesRoutes(app: FastifyInstance, deps: { services: () => { name: string; port: number }[] }): void {
  const typed = typedRequests(app);
  typed.get(
    '/api/v1/services',
    {
      config: { apiFamily: 'vbr', access: 'Viewer' },
      schema: {
        tags: ['Services'],
        summary: 'Get all services',
        querystring: listQuerySchema(Object.keys(ORDER) as (keyof typeof ORDER)[]),
        response: { 200: Type.Object({ data: Type.Array(ServiceModel), pagination: PaginationSchema }) },
      },
    },
    async (request) => {
      const page = pageRequestFrom(request.query, ORDER, { column: 'name', asc: true });
      let items = deps.services();
      if (page.nameFilter) {
        const regex = wildcardPattern(page.nameFilter);
        items = items.filter((s) => regex.test(s.name));
      }
      const key = page.orderBy as 'name' | 'port';
      items.sort((a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0) * (page.orderAsc ? 1 : -1));
      const data = items.slice(page.skip, page.skip + page.limit);
      return { data, pagination: pagination(items.length, data.length, page) };
    },
  );
}

/** The in-memory twin of likePattern: `*` is the only wildcard, case is ignored. */
function wildcardPattern(filter: string): RegExp {
  const parts = filter.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`, 'i');
}
