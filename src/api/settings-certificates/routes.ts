import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { ApiError, badRequest } from '../../http/errors.js';
import type { CertificateSettingsService, CertificateUpload } from './service.js';
import { typedRequests } from '../../http/typed-requests.js';
import { CertificateDetails, CertificateRegenerateSpec, Certificates } from './schemas.js';

const MAX_FILE_BYTES = 1024 * 1024;

/** Backup for AWS certificate settings, served on the same listener. */
export async function settingsCertificatesRoutes(app: FastifyInstance, deps: { certificates: CertificateSettingsService }): Promise<void> {
  app.get(
    '/api/v1/settings/certificates',
    { config: { apiFamily: 'vba', access: 'Viewer' }, schema: { tags: ['Certificates'], summary: 'Get security certificate', response: { 200: Certificates } } },
    async () => deps.certificates.list(),
  );

  app.get(
    '/api/v1/settings/certificates/details',
    {
      config: { apiFamily: 'vba', access: 'Viewer' },
      schema: { tags: ['Certificates'], summary: 'Rampart extension: fingerprints, names, expiry and recently replaced certificates', response: { 200: CertificateDetails } },
    },
    async () => deps.certificates.details(),
  );

  typedRequests(app).post(
    '/api/v1/settings/certificates/regenerate',
    {
      config: { apiFamily: 'vba', access: 'Administrator' },
      schema: { tags: ['Certificates'], summary: 'Recreate security certificate (no restart: hot-swapped)', body: CertificateRegenerateSpec },
    },
    async (request, reply) => {
      await deps.certificates.regenerate(request.body, request.principal!.userName);
      return reply.code(202).send();
    },
  );

  // Multipart parsing is scoped to the upload route.
  await app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: MAX_FILE_BYTES, files: 3, fields: 10, fieldSize: 4096, parts: 13 } });
    scope.post(
      '/api/v1/settings/certificates/upload',
      {
        config: { apiFamily: 'vba', access: 'Administrator' },
        schema: { tags: ['Certificates'], summary: 'Upload security certificate (.pfx/.p12, or PEM chain + key)', consumes: ['multipart/form-data'] },
      },
      async (request, reply) => {
        await deps.certificates.upload(await readUpload(request), request.principal!.userName);
        return reply.code(202).send();
      },
    );
  });
}

/** Reads `certificateFile`, `certificatePassword` and (PEM only) `privateKeyFile` from the form. */
async function readUpload(request: FastifyRequest): Promise<CertificateUpload> {
  if (!request.isMultipart()) throw badRequest('Send multipart/form-data with the parts "certificateFile" and "certificatePassword".');
  // Without a boundary the parser cannot split the parts (it would fail as a 500).
  if (!/;\s*boundary=("[^"]+"|[^;\s]+)/i.test(request.headers['content-type'] ?? '')) {
    throw badRequest('The Content-Type multipart/form-data needs a boundary parameter, e.g. multipart/form-data; boundary=----part.');
  }
  let certificateFile: Buffer | undefined;
  let privateKeyFile: Buffer | undefined;
  let certificatePassword: string | undefined;
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      const content = await part.toBuffer();
      if (part.file.truncated) throw new ApiError(413, 'UnexpectedContent', `The file "${part.fieldname}" is larger than ${MAX_FILE_BYTES} bytes.`);
      if (part.fieldname === 'certificateFile') certificateFile = content;
      else if (part.fieldname === 'privateKeyFile') privateKeyFile = content;
      else throw badRequest(`Unexpected file part "${part.fieldname}"; send "certificateFile" (and "privateKeyFile" for a PEM key in its own file).`);
    } else if (part.fieldname === 'certificatePassword') {
      certificatePassword = String(part.value);
    } else if (part.fieldname === 'certificateFile' || part.fieldname === 'privateKeyFile') {
      // Some clients send the file content as a plain field.
      const content = Buffer.from(String(part.value), 'utf8');
      if (part.fieldname === 'certificateFile') certificateFile = content;
      else privateKeyFile = content;
    }
  }
  if (!certificateFile || certificateFile.length === 0) throw badRequest('The part "certificateFile" is missing or empty.');
  if (certificatePassword === undefined) throw badRequest('The part "certificatePassword" is missing (send an empty value for a file without a password).');
  return { certificateFile, certificatePassword, privateKeyFile };
}
