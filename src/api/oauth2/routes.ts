import type { FastifyInstance } from 'fastify';
import { typedRequests } from '../../http/typed-requests.js';
import { formatInstant } from '../../http/dates.js';
import { EmptySuccessSchema } from '../../http/schemas.js';
import type { LoginService } from '../../auth/login.js';
import { runGrant, SUPPORTED_GRANTS, tokenFields } from './grants.js';
import { AuthorizationCodeModel, TokenLoginSpec, TokenModel } from './schemas.js';

export function oauth2Routes(app: FastifyInstance, deps: { login: LoginService }): void {
  const typed = typedRequests(app);
  typed.post(
    '/api/oauth2/token',
    {
      // Public: a stale Authorization header from a refreshing client is ignored.
      config: { apiFamily: 'vbr', access: 'public' },
      schema: { tags: ['Login'], summary: 'Get access token', body: TokenLoginSpec, response: { 200: TokenModel } },
    },
    async (request) => {
      const issued = await runGrant(deps.login, request.body, request.ip, SUPPORTED_GRANTS);
      return tokenFields(issued, (date) => formatInstant(date)!);
    },
  );

  typed.post(
    '/api/oauth2/authorization_code',
    {
      config: { apiFamily: 'vbr', access: 'Viewer' },
      schema: { tags: ['Login'], summary: 'Get authorization code', response: { 200: AuthorizationCodeModel } },
    },
    async (request) => ({ code: (await deps.login.createAuthorizationCode(request.principal!)).code }),
  );

  typed.post(
    '/api/oauth2/logout',
    {
      config: { apiFamily: 'vbr', access: 'Viewer' },
      schema: { tags: ['Login'], summary: 'Log out', response: { 200: EmptySuccessSchema } },
    },
    async (request) => {
      await deps.login.logout(request.principal!);
      return {};
    },
  );
}
