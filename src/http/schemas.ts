import { Type } from 'typebox';
import { stringEnum } from './paging.js';

/** The documented error model; every 4xx/5xx on Backup & Replication routes has this shape. */
export const ErrorSchema = Type.Object(
  {
    errorCode: stringEnum([
      'AccessDenied',
      'ExpiredToken',
      'InvalidToken',
      'InvalidURI',
      'MethodNotAllowed',
      'NotFound',
      'NotImplemented',
      'ServiceUnavailable',
      'UnexpectedContent',
      'UnknownError',
    ]),
    message: Type.String(),
    resourceId: Type.Optional(Type.String()),
  },
  { $id: 'Error' },
);

export const EmptySuccessSchema = Type.Object({}, { description: 'Empty success response' });

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid', description: 'Object ID (uuid).' }) });

/** Standard error responses for a route's schema (documentation only; replies are built by the error handler). */
export const errorResponses = {
  400: Type.Ref('Error'),
  401: Type.Ref('Error'),
  403: Type.Ref('Error'),
  404: Type.Ref('Error'),
  500: Type.Ref('Error'),
};
