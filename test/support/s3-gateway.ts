import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the gateway saw: what the client asked for and how it signed it. */
export interface GatewayRequest {
  method: string;
  /** The path as received, before `pathPrefix` is taken off. */
  path: string;
  /** The Host header (path style keeps the bucket out of it). */
  host: string;
  accessKey: string;
  /** The region of the signature's credential scope. */
  region: string;
  /** 'ok', or the S3 error code the gateway answered with. */
  verdict: 'ok' | 'SignatureDoesNotMatch' | 'InvalidAccessKeyId' | 'AccessDenied' | 'NotFound';
}

export interface S3Gateway {
  endpoint: string;
  port: number;
  requests: GatewayRequest[];
  stop(): Promise<void>;
}

export interface S3GatewayOptions {
  /** Access key → secret key the gateway accepts. */
  secrets: Record<string, string>;
  /** Requests must start with this path (e.g. "/eu-central-1"); it is taken off before forwarding. */
  pathPrefix?: string;
  /** Forward accepted requests under this access key (the one the stand-in knows), so the clients can use keys of their own. */
  upstreamAccessKey?: string;
}

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The AWS Signature Version 4 of a request (header form), computed independently of the SDK. */
function expectedSignature(req: http.IncomingMessage, secret: string, scope: { date: string; region: string; service: string }, signedHeaders: string[]): string {
  const [rawPath, rawQuery = ''] = (req.url ?? '/').split('?', 2) as [string, string?];
  const query = rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const [k, v = ''] = pair.split('=', 2) as [string, string?];
      return [rfc3986(decodeURIComponent(k.replace(/\+/g, ' '))), rfc3986(decodeURIComponent(v.replace(/\+/g, ' ')))] as const;
    })
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : x > y ? 1 : 0) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headerValue = (name: string) => {
    const v = req.headers[name];
    return (Array.isArray(v) ? v.join(',') : (v ?? '')).trim().replace(/\s+/g, ' ');
  };
  const canonical = [
    req.method,
    rawPath,
    query,
    signedHeaders.map((h) => `${h}:${headerValue(h)}\n`).join(''),
    signedHeaders.join(';'),
    headerValue('x-amz-content-sha256') || 'UNSIGNED-PAYLOAD',
  ].join('\n');
  const amzDate = headerValue('x-amz-date');
  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, scope.date), scope.region), scope.service), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

function refuse(res: http.ServerResponse, method: string, status: number, code: string, message: string) {
  res.writeHead(status, { 'content-type': 'application/xml' });
  // HEAD answers carry no body, as on the real services.
  res.end(method === 'HEAD' ? undefined : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

/**
 * A gateway in front of the local S3 stand-in that checks every request's AWS
 * Signature Version 4 (header form; the payload hash is taken as the client
 * declares it) against the secret key of its access key, as Wasabi and Google
 * Cloud Storage do, and forwards the requests it accepts. s3rver alone accepts
 * any V4 signature, so a wrong secret key would go unnoticed without it.
 */
export async function startS3Gateway(targetPort: number, options: S3GatewayOptions): Promise<S3Gateway> {
  const requests: GatewayRequest[] = [];
  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const entry: GatewayRequest = { method, path: req.url ?? '/', host: String(req.headers.host ?? ''), accessKey: '', region: '', verdict: 'ok' };
    requests.push(entry);
    const auth = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      String(req.headers.authorization ?? ''),
    );
    if (!auth) {
      entry.verdict = 'AccessDenied';
      return refuse(res, method, 403, 'AccessDenied', 'Anonymous or malformed requests are not accepted.');
    }
    const [, accessKey, date, region, service, signedHeaders, signature] = auth as unknown as [string, string, string, string, string, string, string];
    entry.accessKey = accessKey;
    entry.region = region;
    const secret = options.secrets[accessKey];
    if (secret === undefined) {
      entry.verdict = 'InvalidAccessKeyId';
      return refuse(res, method, 403, 'InvalidAccessKeyId', 'The access key you provided does not exist in our records.');
    }
    const expected = expectedSignature(req, secret, { date, region, service }, signedHeaders.split(';'));
    if (!timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
      entry.verdict = 'SignatureDoesNotMatch';
      return refuse(res, method, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
    }
    let forwardPath = req.url ?? '/';
    if (options.pathPrefix) {
      if (forwardPath !== options.pathPrefix && !forwardPath.startsWith(`${options.pathPrefix}/`) && !forwardPath.startsWith(`${options.pathPrefix}?`)) {
        entry.verdict = 'NotFound';
        return refuse(res, method, 404, 'NotFound', `This gateway serves ${options.pathPrefix}/ only.`);
      }
      forwardPath = forwardPath.slice(options.pathPrefix.length) || '/';
      if (forwardPath.startsWith('?')) forwardPath = `/${forwardPath}`;
    }
    // s3rver checks V2 signatures only: V4 ones pass as they are (this gateway checked them), under an access key it knows.
    const headers = { ...req.headers };
    if (options.upstreamAccessKey) headers.authorization = String(headers.authorization).replace(`Credential=${accessKey}/`, `Credential=${options.upstreamAccessKey}/`);
    const upstream = http.request({ host: '127.0.0.1', port: targetPort, method, path: forwardPath, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
