import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import { sendApiError } from './error-replies.js';

/**
 * Fastify's own refusals before any route runs (a malformed percent-escape, a path
 * segment over the router's limit), in the error model instead of Fastify's shape.
 */
export function frameworkErrorReply(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    sendApiError(request, reply, new ApiError(414, 'InvalidURI', 'A segment of the request path is longer than the server accepts (100 characters).'));
    return;
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    sendApiError(request, reply, new ApiError(400, 'InvalidURI', 'The request path holds a malformed percent-escape.'));
    return;
  }
  request.log.error({ err: { type: error.name, code: error.code, message: error.message } }, 'framework error');
  sendApiError(request, reply, new ApiError(500, 'UnknownError', 'Internal server error. The server log has the details.'));
}

const CLIENT_ERRORS: Record<string, { status: number; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'The request was not received in time; the connection is closed.' },
  HPE_HEADER_OVERFLOW: { status: 431, message: 'The request headers are larger than the server accepts (16 KiB).' },
};

/**
 * Requests Node refuses before Fastify sees them (garbage request line, headers over
 * 16 KiB, headers or body not received in time). No route is known, so the reply is
 * the Backup & Replication error model; the connection is closed after it.
 */
export function clientErrorReply(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const known = CLIENT_ERRORS[error.code ?? ''] ?? { status: 400, message: 'The request is not valid HTTP.' };
  const body = JSON.stringify({ errorCode: 'UnexpectedContent', message: known.message });
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(
    `HTTP/1.1 ${known.status} ${STATUS_CODES[known.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  // A client that does not read its answer does not keep the connection either.
  setTimeout(() => socket.destroy(), 1000).unref();
}
