/**
 * s3rver has no object lock. This is a small stand-in in front of it that
 * implements the object-lock part of the S3 protocol the chunk store uses, so
 * the AWS SDK's own parameters are exercised end to end:
 *   PutObject with x-amz-object-lock-mode / x-amz-object-lock-retain-until-date,
 *   PutObjectRetention (?retention, COMPLIANCE can only be extended),
 *   GetObjectRetention (?retention), GetObjectLockConfiguration (?object-lock),
 *   DeleteObject and overwriting PUT/COPY of an object under retention → 403 AccessDenied.
 * Everything else is forwarded unchanged (the Host header too, so SigV4 still checks).
 * It is stricter than AWS on a versioned bucket, where a delete without a version id
 * only adds a delete marker and the locked version survives: here the delete is refused.
 * Retention lives in memory, for the life of the stand-in.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ObjectLockStandIn {
  endpoint: string;
  /** bucket/key → retain-until (ms), for assertions. */
  retainedUntil(bucket: string, key: string): Date | undefined;
  stop(): Promise<void>;
}

const xmlError = (res: http.ServerResponse, status: number, code: string, message: string) => {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
};

export async function startObjectLockStandIn(upstreamPort: number): Promise<ObjectLockStandIn> {
  const retention = new Map<string, { mode: string; until: number }>();
  const locked = (k: string) => {
    const r = retention.get(k);
    return r && r.until > Date.now() ? r : undefined;
  };
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, after?: (status: number) => void) => {
    const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      after?.(upRes.statusCode ?? 0);
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => xmlError(res, 502, 'BadGateway', 'upstream failed'));
    up.end(body);
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://stand-in');
      // Path style: /bucket/key...
      const [, bucket = '', ...rest] = url.pathname.split('/');
      const key = decodeURIComponent(rest.join('/'));
      const id = `${bucket}/${key}`;
      const q = url.searchParams;
      if (q.has('object-lock') && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>');
        return;
      }
      if (q.has('retention') && key) {
        if (req.method === 'GET') {
          const r = retention.get(id);
          if (!r) return xmlError(res, 404, 'NoSuchObjectLockConfiguration', 'The specified object does not have a ObjectLock configuration');
          res.writeHead(200, { 'content-type': 'application/xml' });
          res.end(`<?xml version="1.0" encoding="UTF-8"?><Retention><Mode>${r.mode}</Mode><RetainUntilDate>${new Date(r.until).toISOString()}</RetainUntilDate></Retention>`);
          return;
        }
        if (req.method === 'PUT') {
          const text = body.toString('utf8');
          const mode = /<Mode>([^<]+)<\/Mode>/.exec(text)?.[1];
          const until = Date.parse(/<RetainUntilDate>([^<]+)<\/RetainUntilDate>/.exec(text)?.[1] ?? '');
          if (!mode || Number.isNaN(until)) return xmlError(res, 400, 'MalformedXML', 'retention needs Mode and RetainUntilDate');
          const current = locked(id);
          if (current?.mode === 'COMPLIANCE' && until < current.until) return xmlError(res, 403, 'AccessDenied', 'COMPLIANCE retention cannot be shortened');
          // The object must exist: ask upstream with a HEAD of the same (signed) request is not possible, so trust known keys.
          retention.set(id, { mode, until });
          res.writeHead(200);
          res.end();
          return;
        }
      }
      if (key && (req.method === 'DELETE' || req.method === 'PUT') && !q.has('uploadId') && !q.has('tagging')) {
        const r = locked(id);
        if (r) return xmlError(res, 403, 'AccessDenied', `Object is WORM protected and cannot be overwritten or deleted until ${new Date(r.until).toISOString()}`);
      }
      if (key && req.method === 'PUT') {
        const mode = req.headers['x-amz-object-lock-mode'];
        const untilHeader = req.headers['x-amz-object-lock-retain-until-date'];
        if (typeof mode === 'string' && typeof untilHeader === 'string') {
          const until = Date.parse(untilHeader);
          if (Number.isNaN(until)) return xmlError(res, 400, 'InvalidArgument', 'bad x-amz-object-lock-retain-until-date');
          return forward(req, res, body, (status) => {
            if (status === 200) retention.set(id, { mode, until });
          });
        }
      }
      forward(req, res, body, (status) => {
        if (req.method === 'DELETE' && status < 300) retention.delete(id);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    retainedUntil: (b, k) => {
      const r = retention.get(`${b}/${k}`);
      return r ? new Date(r.until) : undefined;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
