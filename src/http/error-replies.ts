import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiError, ErrorCode } from './errors.js';
import type { ApiFamily } from './route-config.js';

/** Backup for AWS problem `type` names (its /api/v1/problems/* pages), by error code. */
const AWS_PROBLEM: Record<ErrorCode, string> = {
  AccessDenied: 'accessDenied',
  ExpiredToken: 'expiredAccessToken',
  InvalidToken: 'invalidAccessToken',
  InvalidURI: 'resourceNotFound',
  MethodNotAllowed: 'validationError',
  NotFound: 'resourceNotFound',
  NotImplemented: 'notImplemented',
  ServiceUnavailable: 'serviceUnavailable',
  UnexpectedContent: 'validationError',
  UnknownError: 'unknownError',
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  414: 'URI Too Long',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Routes whose family is unknown (no route matched) are judged by their path. */
export function familyOf(request: FastifyRequest): ApiFamily {
  const configured = request.routeOptions.config?.apiFamily;
  if (configured) return configured;
  const p = request.url.toLowerCase();
  return p.startsWith('/api/v1/token') || p.startsWith('/api/v1/settings/') || p.startsWith('/api/v1/system/') ? 'vba' : 'vbr';
}

export function sendApiError(request: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
  reply.code(error.status);
  if (familyOf(request) === 'vba') {
    const host = request.headers.host ?? 'localhost';
    return reply.type('application/problem+json; charset=utf-8').send({
      type: `https://${host}/api/v1/problems/${AWS_PROBLEM[error.errorCode]}`,
      title: TITLES[error.status] ?? 'Error',
      status: error.status,
      errorCode: error.errorCode,
      details: error.message,
      // The document types `instance` as an absolute URI (format uri), as it does `type`.
      instance: `https://${host}${request.url.split('?')[0]}`,
    });
  }
  const body: { errorCode: ErrorCode; message: string; resourceId?: string } = { errorCode: error.errorCode, message: error.message };
  if (error.resourceId) body.resourceId = error.resourceId;
  return reply.type('application/json; charset=utf-8').send(body);
}
