import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import { typedRequests } from '../../http/typed-requests.js';
import { formatAwsTokenDate } from '../../http/dates.js';
import { awsRoleName } from '../../auth/roles.js';
import type { LoginService } from '../../auth/login.js';
import { runGrant, SUPPORTED_GRANTS, tokenFields } from '../oauth2/grants.js';
import { TokenLoginSpec, TokenModel } from '../oauth2/schemas.js';

// `.issued`/`.expires` are exactly YYYY-MM-DDTHH:MM:SS here: the public Go SDK for this API panics otherwise.
const RESTLogin = Type.Object({
  ...TokenModel.properties,
  '.issued': Type.String(),
  '.expires': Type.String(),
  username: Type.String(),
  roleName: Type.String(),
  mfa_enabled: Type.Boolean(),
});

/** Backup for AWS's token endpoints: same users, same tokens as /api/oauth2/token. */
export function awsTokenRoutes(app: FastifyInstance, deps: { login: LoginService }): void {
  const typed = typedRequests(app);
  typed.post(
    '/api/v1/token',
    {
      config: { apiFamily: 'vba', access: 'public' },
      schema: { tags: ['Token'], summary: 'Authenticate (Backup for AWS)', body: TokenLoginSpec, response: { 200: RESTLogin } },
    },
    async (request) => {
      const issued = await runGrant(deps.login, request.body, request.ip, SUPPORTED_GRANTS);
      return {
        ...tokenFields(issued, formatAwsTokenDate),
        username: issued.user.name,
        roleName: awsRoleName(issued.user.role),
        mfa_enabled: false,
      };
    },
  );

  typed.delete('/api/v1/token', { config: { apiFamily: 'vba', access: 'Viewer' }, schema: { tags: ['Token'], summary: 'Sign out (Backup for AWS)' } }, async (request, reply) => {
    await deps.login.logout(request.principal!);
    return reply.code(204).send();
  });

  typed.post(
    '/api/v1/token/authorizationCode',
    {
      config: { apiFamily: 'vba', access: 'Viewer' },
      schema: { tags: ['Token'], summary: 'Create authorization code (Backup for AWS)', response: { 200: Type.Object({ code: Type.String() }) } },
    },
    async (request) => ({ code: (await deps.login.createAuthorizationCode(request.principal!)).code }),
  );
}
