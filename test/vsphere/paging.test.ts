import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retrieveProperties } from '../../src/vsphere/property-collector.js';
import { VsphereSession } from '../../src/vsphere/session.js';
import { moref, text } from '../../src/vsphere/xml.js';
import { makeTlsMaterial } from '../support/peers.js';

/**
 * vcsim returns every result at once; a real vCenter pages RetrievePropertiesEx
 * with tokens. This stand-in answers the way vCenter's wire does (three pages,
 * the session cookie required after Login), so the token loop and the cookie are tested.
 */

const envelope = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
const vmObject = (id: string) => `<objects><obj type="VirtualMachine">${id}</obj><propSet><name>name</name><val xsi:type="xsd:string">name of ${id}</val></propSet></objects>`;

const SERVICE_CONTENT = `<RetrieveServiceContentResponse xmlns="urn:vim25"><returnval><rootFolder type="Folder">group-d1</rootFolder><propertyCollector type="PropertyCollector">propertyCollector</propertyCollector><viewManager type="ViewManager">ViewManager</viewManager><about><name>VMware vCenter Server</name><fullName>VMware vCenter Server 8.0.2 build-1</fullName><version>8.0.2</version><apiType>VirtualCenter</apiType><apiVersion>8.0.2.0</apiVersion></about><sessionManager type="SessionManager">SessionManager</sessionManager></returnval></RetrieveServiceContentResponse>`;

describe('RetrievePropertiesEx paging with tokens, as a real vCenter answers', () => {
  let server: https.Server;
  let port: number;
  let thumbprint: string;
  const calls: { method: string; cookie?: string; token?: string }[] = [];

  beforeAll(async () => {
    const material = await makeTlsMaterial('ec', { cn: 'vcenter.test' });
    thumbprint = new X509Certificate(material.leafPem).fingerprint;
    server = https.createServer({ key: material.keyPem, cert: material.certPem }, (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const method = /<soapenv:Body><(\w+)/.exec(body)?.[1] ?? '';
        const token = /<token>([^<]*)<\/token>/.exec(body)?.[1];
        calls.push({ method, cookie: req.headers.cookie, token });
        res.setHeader('Content-Type', 'text/xml; charset=utf-8');
        if (method !== 'RetrieveServiceContent' && method !== 'Login' && req.headers.cookie !== 'vmware_soap_session="52abc"') {
          res.statusCode = 500;
          return res.end(
            envelope(
              '<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>The session is not authenticated.</faultstring><detail><NotAuthenticatedFault xmlns="urn:vim25" xsi:type="NotAuthenticated"></NotAuthenticatedFault></detail></soapenv:Fault>',
            ),
          );
        }
        if (method === 'RetrieveServiceContent') return res.end(envelope(SERVICE_CONTENT));
        if (method === 'Login') {
          res.setHeader('Set-Cookie', 'vmware_soap_session="52abc"; Path=/; HttpOnly; Secure;');
          return res.end(envelope('<LoginResponse xmlns="urn:vim25"><returnval><key>52abc</key><userName>VSPHERE.LOCAL\\Administrator</userName></returnval></LoginResponse>'));
        }
        if (method === 'RetrievePropertiesEx')
          return res.end(
            envelope(
              `<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><token>page-2</token>${vmObject('vm-1')}${vmObject('vm-2')}</returnval></RetrievePropertiesExResponse>`,
            ),
          );
        if (method === 'ContinueRetrievePropertiesEx' && token === 'page-2')
          return res.end(
            envelope(
              `<ContinueRetrievePropertiesExResponse xmlns="urn:vim25"><returnval><token>page-3</token>${vmObject('vm-3')}</returnval></ContinueRetrievePropertiesExResponse>`,
            ),
          );
        if (method === 'ContinueRetrievePropertiesEx' && token === 'page-3')
          return res.end(envelope(`<ContinueRetrievePropertiesExResponse xmlns="urn:vim25"><returnval>${vmObject('vm-4')}</returnval></ContinueRetrievePropertiesExResponse>`));
        if (method === 'Logout') return res.end(envelope('<LogoutResponse xmlns="urn:vim25"></LogoutResponse>'));
        res.statusCode = 500;
        res.end(envelope(`<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>unexpected ${method}</faultstring></soapenv:Fault>`));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('follows the tokens to the last page, sending the session cookie on every call after Login', async () => {
    const session = await VsphereSession.login({ host: '127.0.0.1', port, thumbprint }, { username: 'administrator@vsphere.local', password: 'pw' });
    expect(session.content.about.apiVersion).toBe('8.0.2.0');
    const objects = await retrieveProperties(
      session,
      { propSet: { type: 'VirtualMachine', pathSet: 'name' }, objectSet: { obj: moref({ type: 'Folder', value: 'group-d1' }) } },
      2,
    );
    expect(objects.map((o) => [o.obj.value, text(o.props.get('name'))])).toEqual([
      ['vm-1', 'name of vm-1'],
      ['vm-2', 'name of vm-2'],
      ['vm-3', 'name of vm-3'],
      ['vm-4', 'name of vm-4'],
    ]);
    await session.logout();
    expect(calls.map((c) => c.method)).toEqual([
      'RetrieveServiceContent',
      'Login',
      'RetrievePropertiesEx',
      'ContinueRetrievePropertiesEx',
      'ContinueRetrievePropertiesEx',
      'Logout',
    ]);
    expect(calls.slice(2).every((c) => c.cookie === 'vmware_soap_session="52abc"')).toBe(true);
    expect(calls.filter((c) => c.method === 'ContinueRetrievePropertiesEx').map((c) => c.token)).toEqual(['page-2', 'page-3']);
  });
});
