import type { FastifyError, FastifyInstance } from 'fastify';
import FindMyWay from 'find-my-way';
import { ApiError } from './errors.js';
import { sendApiError } from './error-replies.js';

type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS';
const METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];

/** Explains a schema validation failure in words a person can act on. */
function describeValidation(error: FastifyError): string {
  const part = error.validationContext ?? 'body';
  const first = error.validation?.[0];
  if (!first) return `The request ${part} is not valid.`;
  const where = first.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : '';
  const params = first.params as Record<string, unknown>;
  let what = first.message ?? 'is not valid';
  if (first.keyword === 'enum' && Array.isArray(params.allowedValues)) what = `must be one of: ${params.allowedValues.join(', ')}`;
  if (first.keyword === 'required') return `The request ${part} is missing the required field "${where ? `${where}.` : ''}${String(params.missingProperty)}".`;
  if (first.keyword === 'additionalProperties') return `The request ${part} has an unknown field "${where ? `${where}.` : ''}${String(params.additionalProperty)}".`;
  const label = part === 'querystring' ? 'query parameter' : part === 'params' ? 'path parameter' : part === 'headers' ? 'header' : 'field';
  return where ? `Invalid ${label} "${where}": ${what}.` : `The request ${part} ${what}.`;
}

/**
 * Every failure leaves as the documented error model: no HTML, no stack trace.
 * Wrong methods on known paths get 405 (Fastify alone would say 404).
 */
export function installErrorHandling(app: FastifyInstance): void {
  const knownPaths = FindMyWay({ caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true });
  app.addHook('onRoute', (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]) as HttpMethod[];
    for (const method of methods) {
      if (METHODS.includes(method) && !knownPaths.hasRoute(method, route.url)) knownPaths.on(method, route.url, () => undefined);
    }
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = METHODS.filter((m) => m !== request.method && knownPaths.find(m, path));
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendApiError(request, reply, new ApiError(405, 'MethodNotAllowed', `${request.method} is not allowed on ${path}. Allowed: ${allowed.join(', ')}.`));
    }
    return sendApiError(request, reply, new ApiError(404, 'NotFound', `No resource at ${request.method} ${path}.`));
  });

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) return sendApiError(request, reply, error);
    if (error.validation) return sendApiError(request, reply, new ApiError(400, 'UnexpectedContent', describeValidation(error)));
    const status = error.statusCode ?? 500;
    if (status === 413) {
      return sendApiError(
        request,
        reply,
        new ApiError(413, 'UnexpectedContent', `The request body is larger than the server accepts (${request.routeOptions?.bodyLimit ?? app.initialConfig.bodyLimit} bytes).`),
      );
    }
    if (status === 415) {
      return sendApiError(
        request,
        reply,
        new ApiError(415, 'UnexpectedContent', `Content-Type "${request.headers['content-type'] ?? ''}" is not accepted here; send application/json.`),
      );
    }
    if (status >= 400 && status < 500) {
      // Fastify's own client errors (bad JSON, empty body…): its message says what is wrong and holds no secret.
      const message = error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError ? 'The request body is not valid JSON.' : error.message;
      return sendApiError(request, reply, new ApiError(status, 'UnexpectedContent', message));
    }
    request.log.error({ err: { type: error.name, message: error.message, stack: error.stack } }, 'unhandled error');
    return sendApiError(request, reply, new ApiError(500, 'UnknownError', 'Internal server error. The server log has the details.'));
  });
}
