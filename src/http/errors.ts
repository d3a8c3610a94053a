/**
 * The documented Backup & Replication error codes. Backup for AWS uses the same
 * enum inside its problem shape.
 */
export type ErrorCode =
  | 'AccessDenied'
  | 'ExpiredToken'
  | 'InvalidToken'
  | 'InvalidURI'
  | 'MethodNotAllowed'
  | 'NotFound'
  | 'NotImplemented'
  | 'ServiceUnavailable'
  | 'UnexpectedContent'
  | 'UnknownError';

/** An answer for the client: status, documented code and a message a person can act on. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: ErrorCode,
    message: string,
    readonly resourceId?: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, resourceId?: string) => new ApiError(400, 'UnexpectedContent', message, resourceId);
export const notFound = (message: string, resourceId?: string) => new ApiError(404, 'NotFound', message, resourceId);
export const forbidden = (message: string) => new ApiError(403, 'AccessDenied', message);
export const conflict = (message: string, resourceId?: string) => new ApiError(409, 'UnexpectedContent', message, resourceId);
