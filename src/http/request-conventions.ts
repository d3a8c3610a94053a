import type { FastifyInstance } from 'fastify';
import { negotiateRevision } from './api-version.js';
import { ApiError } from './errors.js';
import { installBooleanStrings } from './boolean-strings.js';
import { roleAllows } from '../auth/roles.js';
import type { AccessTokens } from '../auth/access-tokens.js';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Per-request conventions, in the order a client meets them: a body without a
 * Content-Type is JSON; the API version is negotiated; then the token and role are
 * checked — all before the body is read, so unauthenticated bodies are never parsed.
 */
export function installRequestConventions(app: FastifyInstance, accessTokens: AccessTokens): void {
  installBooleanStrings(app);
  app.addHook('onRequest', async (request) => {
    if (BODY_METHODS.has(request.method) && !request.headers['content-type']) {
      request.headers['content-type'] = 'application/json';
    }
    const config = request.routeOptions.config;
    if (!config?.apiFamily) return;
    request.apiRevision = negotiateRevision(request, config.apiFamily);
    const access = config.access ?? 'Administrator';
    if (access === 'public') return;
    const token = bearerToken(request.headers.authorization);
    if (!token) {
      throw new ApiError(401, 'AccessDenied', 'Authorization is required: send "Authorization: Bearer <access_token>" from /api/oauth2/token.');
    }
    const principal = await accessTokens.verify(token);
    request.principal = principal;
    if (!roleAllows(principal.role, access)) {
      throw new ApiError(403, 'AccessDenied', `This operation needs the ${access} role; user "${principal.userName}" has the ${principal.role} role.`);
    }
  });
}
