import type { FastifyInstance } from 'fastify';
import { typedRequests } from '../../http/typed-requests.js';
import { dateFilter, enumFilter, pageRequestFrom, pagination } from '../../http/paging.js';
import { EmptySuccessSchema, IdParams } from '../../http/schemas.js';
import { SessionModel } from '../sessions/schemas.js';
import { sessionModel } from '../sessions/service.js';
import type { RepositoriesService } from '../repositories/service.js';
import {
  JOB_ORDER_COLUMNS,
  JOB_STATE_ORDER_COLUMNS,
  JOB_STATUSES,
  JOB_TYPE_SPELLINGS,
  storedJobTypes,
  JOB_WORKLOADS,
  JobEdit,
  JobModel,
  JobSpec,
  JobStartSpec,
  JobStatesQuery,
  JobStatesResult,
  JobStopSpec,
  JobsQuery,
  JobsResult,
  SESSION_RESULTS,
} from './schemas.js';
import { jobModel, jobStateModel } from './model.js';
import type { JobsService } from './service.js';
import { ENABLE_DISABLE_REPLY, JOB_STATES_REPLY, JOBS_REPLY } from '../../revisions/replies/jobs.js';
import { allStatuses } from '../../revisions/shapes.js';

const tags = ['Jobs'];
const read = { apiFamily: 'vbr', access: 'Viewer' } as const;
const write = { apiFamily: 'vbr', access: 'Administrator' } as const;
const operate = { apiFamily: 'vbr', access: 'Operator' } as const;
const readJobs = { ...read, reply: JOBS_REPLY };
const writeJobs = { ...write, reply: JOBS_REPLY };

/** /api/v1/jobs: backup jobs, their states, and starting and stopping their runs. */
export function jobsRoutes(app: FastifyInstance, deps: { jobs: JobsService; repositories: RepositoriesService }): void {
  const typed = typedRequests(app);
  const prefix = '/api/v1/jobs';
  const id = (request: { params: { id: string } }) => request.params.id.toLowerCase();
  const user = (request: { principal?: { userName: string } }) => request.principal!.userName;

  typed.get(prefix, { config: readJobs, schema: { tags, summary: 'Get All Jobs', querystring: JobsQuery, response: { 200: JobsResult } } }, async (request) => {
    const q = request.query;
    const page = pageRequestFrom(q, JOB_ORDER_COLUMNS, { column: 'name_key', asc: true });
    const { rows, total } = await deps.jobs.list(page, { types: storedJobTypes(enumFilter('typeFilter', q.typeFilter, JOB_TYPE_SPELLINGS)) });
    return { data: rows.map((r) => jobModel(r, request.apiRevision)), pagination: pagination(total, rows.length, page) };
  });

  typed.post(prefix, { config: writeJobs, schema: { tags, summary: 'Create Job', body: JobSpec, response: { 201: JobModel } } }, async (request, reply) => {
    const row = await deps.jobs.create(request.body);
    return reply.code(201).send(jobModel(row, request.apiRevision));
  });

  typed.get(
    `${prefix}/states`,
    { config: { ...read, reply: JOB_STATES_REPLY }, schema: { tags, summary: 'Get All Job States', querystring: JobStatesQuery, response: { 200: JobStatesResult } } },
    async (request) => {
      const q = request.query;
      const page = pageRequestFrom(q, JOB_STATE_ORDER_COLUMNS, { column: 'name_key', asc: true });
      const { rows, total } = await deps.jobs.states(page, {
        id: q.idFilter,
        types: storedJobTypes(enumFilter('typeFilter', q.typeFilter, JOB_TYPE_SPELLINGS)),
        lastResults: enumFilter('lastResultFilter', q.lastResultFilter, SESSION_RESULTS),
        statuses: enumFilter('statusFilter', q.statusFilter, JOB_STATUSES),
        workloads: enumFilter('workloadFilter', q.workloadFilter, JOB_WORKLOADS),
        lastRunAfter: dateFilter('lastRunAfterFilter', q.lastRunAfterFilter),
        lastRunBefore: dateFilter('lastRunBeforeFilter', q.lastRunBeforeFilter),
        isHighPriority: q.isHighPriorityJobFilter,
        repositoryId: q.repositoryIdFilter,
        objectsCount: q.objectsCountFilter,
      });
      const running = await deps.jobs.runningProgress(rows.map((r) => r.id));
      const repositoryNames = new Map((await deps.repositories.getMany([...new Set(rows.map((r) => r.repository_id))])).map((r) => [r.id, r.name]));
      return {
        data: rows.map((r) => jobStateModel(r, { running: running.has(r.id), progressPercent: running.get(r.id) ?? 0, repositoryName: repositoryNames.get(r.repository_id) })),
        pagination: pagination(total, rows.length, page),
      };
    },
  );

  typed.get(`${prefix}/:id`, { config: readJobs, schema: { tags, summary: 'Get Job', params: IdParams, response: { 200: JobModel } } }, async (request) =>
    jobModel(await deps.jobs.get(id(request)), request.apiRevision),
  );

  typed.put(`${prefix}/:id`, { config: writeJobs, schema: { tags, summary: 'Edit Job', params: IdParams, body: JobEdit, response: { 200: JobModel } } }, async (request) =>
    jobModel(await deps.jobs.edit(id(request), request.body), request.apiRevision),
  );

  typed.delete(`${prefix}/:id`, { config: write, schema: { tags, summary: 'Delete Job', params: IdParams, response: { 204: EmptySuccessSchema } } }, async (request, reply) => {
    await deps.jobs.remove(id(request));
    return reply.code(204).send();
  });

  typed.post(
    `${prefix}/:id/start`,
    { config: operate, schema: { tags, summary: 'Start Job', params: IdParams, body: JobStartSpec, response: { 201: SessionModel } } },
    async (request, reply) => {
      const session = await deps.jobs.start(id(request), request.body ?? {}, user(request));
      return reply.code(201).send(sessionModel(session, request.apiRevision));
    },
  );

  typed.post(
    `${prefix}/:id/stop`,
    { config: operate, schema: { tags, summary: 'Stop Job', params: IdParams, body: JobStopSpec, response: { 201: SessionModel } } },
    async (request, reply) => {
      const session = await deps.jobs.stop(id(request), request.body ?? {}, user(request));
      return reply.code(201).send(sessionModel(session, request.apiRevision));
    },
  );

  for (const [action, disabled] of [
    ['enable', false],
    ['disable', true],
  ] as const) {
    typed.post(
      `${prefix}/:id/${action}`,
      {
        config: { ...write, reply: ENABLE_DISABLE_REPLY },
        schema: {
          tags,
          summary: `${action === 'enable' ? 'Enable' : 'Disable'} Job`,
          params: IdParams,
          response: Object.fromEntries(allStatuses(ENABLE_DISABLE_REPLY, 200).map((status) => [status, EmptySuccessSchema])),
        },
      },
      async (request) => {
        await deps.jobs.setDisabled(id(request), disabled);
        return {};
      },
    );
  }
}
