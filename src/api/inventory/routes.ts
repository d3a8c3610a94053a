import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { enumFilter, pageRequestFrom, pagination } from '../../http/paging.js';
import { inventoryEntry } from './model.js';
import { HostNameParams, InventoryResult, OBJECT_ORDER_COLUMNS, SERVER_ORDER_COLUMNS, VCenterInventoryQuery, VMWARE_TYPES, ViRootsQuery } from './schemas.js';
import type { InventoryService } from './service.js';

const tags = ['Inventory Browser'];
const read = { apiFamily: 'vbr', access: 'Viewer' } as const;

// Ordering is done in memory by the service: the column names are the API's own.
const serverColumns = Object.fromEntries(SERVER_ORDER_COLUMNS.map((c) => [c, c]));
const objectColumns = Object.fromEntries(OBJECT_ORDER_COLUMNS.map((c) => [c, c]));

/** /api/v1/inventory/vmware/hosts: the vSphere servers Rampart manages, and what each holds. */
export function inventoryRoutes(untyped: FastifyInstance, deps: { inventory: InventoryService }): void {
  const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
  const prefix = '/api/v1/inventory/vmware/hosts';

  app.get(prefix, { config: read, schema: { tags, summary: 'Get All Servers', querystring: ViRootsQuery, response: { 200: InventoryResult } } }, async (request) => {
    const page = pageRequestFrom(request.query, serverColumns, { column: 'Name', asc: true });
    const { rows, total } = await deps.inventory.listServers(page, request.apiRevision);
    return { data: rows.map((o) => inventoryEntry(o, request.apiRevision)), pagination: pagination(total, rows.length, page) };
  });

  app.get(
    `${prefix}/:name`,
    {
      config: read,
      schema: { tags, summary: 'Get VMware vSphere Server Objects', params: HostNameParams, querystring: VCenterInventoryQuery, response: { 200: InventoryResult } },
    },
    async (request) => {
      const q = request.query;
      const { name } = request.params;
      const page = pageRequestFrom(q, objectColumns, { column: 'Type', asc: true });
      const { rows, total } = await deps.inventory.listObjects(
        name,
        {
          objectId: q.objectIdFilter,
          hierarchy: q.hierarchyTypeFilter,
          types: enumFilter('typeFilter', q.typeFilter, VMWARE_TYPES),
          parentName: q.parentContainerNameFilter,
        },
        page,
        request.apiRevision,
      );
      return { data: rows.map((o) => inventoryEntry(o, request.apiRevision)), pagination: pagination(total, rows.length, page) };
    },
  );
}
