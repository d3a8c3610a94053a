import type https from 'node:https';
import { request } from 'node:https';
import { faultError, VsphereError } from './errors.js';
import { bare, hostLabel, pinnedAgent, transportError, type VsphereTarget } from './transport.js';
import { child, childText, envelope, parseXml, xsiType, type SoapObject, type XmlNode, type XmlRecord } from './xml.js';

const DEFAULT_TIMEOUT_MS = 30_000;
/** The API version Rampart speaks: 6.5 is what vcsim (govmomi 0.24) offers and every later vCenter accepts. */
const SOAP_ACTION = 'urn:vim25/6.5';
const MAX_REPLY_BYTES = 64 * 1024 * 1024;

/**
 * One SOAP endpoint (`/sdk`) with its session cookie. Each call is a POST with
 * a deadline; faults become VsphereErrors worded for people.
 */
export class SoapConnection {
  readonly agent: https.Agent;
  readonly label: string;
  /** `vmware_soap_session=…`, sent back on every request (SOAP and datastore files). */
  cookie: string | undefined;

  constructor(readonly target: VsphereTarget) {
    this.agent = pinnedAgent(target);
    this.label = hostLabel(target);
  }

  get timeoutMs(): number {
    return this.target.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Calls a method and returns its `<returnval>` (undefined for void methods). */
  async call(method: string, args: SoapObject): Promise<XmlNode | undefined> {
    const body = envelope(method, args);
    const reply = await this.post(method, body);
    const doc = parseXml(reply.text);
    const soapBody = child(child(doc, 'Envelope'), 'Body');
    if (soapBody === undefined) throw new VsphereError('NotSoap', `${this.label} did not answer ${method} with SOAP (HTTP ${reply.status})`);
    const fault = child(soapBody, 'Fault');
    if (fault !== undefined) {
      const detail = child(fault, 'detail');
      const first = detail && typeof detail !== 'string' ? Object.entries(detail).find(([k]) => !k.startsWith('@') && k !== '#text') : undefined;
      const kind = (first && xsiType(first[1] as XmlNode)) ?? first?.[0].replace(/Fault$/, '') ?? childText(fault, 'faultcode') ?? 'Fault';
      throw faultError(this.label, method, kind, childText(fault, 'faultstring') ?? '');
    }
    if (reply.status >= 300) throw new VsphereError('HttpError', `${this.label} answered ${method} with HTTP ${reply.status}`);
    return child(child(soapBody, `${method}Response`), 'returnval');
  }

  private post(method: string, body: string): Promise<{ status: number; text: string }> {
    const { signal } = this.target;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: bare(this.target.host),
          port: this.target.port,
          path: '/sdk',
          method: 'POST',
          agent: this.agent,
          headers: {
            'Content-Type': 'text/xml; charset=utf-8',
            SOAPAction: SOAP_ACTION,
            'Content-Length': Buffer.byteLength(body),
            ...(this.cookie ? { Cookie: this.cookie } : {}),
          },
          signal,
        },
        (res) => {
          const setCookie = res.headers['set-cookie']?.find((c) => c.startsWith('vmware_soap_session='));
          if (setCookie) this.cookie = setCookie.split(';')[0];
          const parts: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_REPLY_BYTES) return req.destroy(new VsphereError('NotSoap', `${this.label} sent more than 64 MiB in reply to ${method}`));
            parts.push(chunk);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
          res.on('error', (err) => reject(transportError(this.target, err)));
        },
      );
      // One deadline for the whole call, connection included: a silent host never holds a caller longer.
      const timer = setTimeout(() => req.destroy(new VsphereError('TimedOut', `${this.label} did not answer ${method} within ${this.timeoutMs} ms`)), this.timeoutMs);
      req.on('close', () => clearTimeout(timer));
      req.on('error', (err) => reject(transportError(this.target, err)));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export type { XmlRecord };
