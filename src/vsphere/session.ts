import { VsphereError } from './errors.js';
import { SoapConnection } from './soap.js';
import type { VsphereTarget } from './transport.js';
import { child, childText, moref, text, toMoref, type ManagedObjectReference, type XmlNode } from './xml.js';

/** The parts of vSphere's ServiceContent Rampart uses. */
export interface ServiceContent {
  rootFolder: ManagedObjectReference;
  propertyCollector: ManagedObjectReference;
  viewManager: ManagedObjectReference;
  sessionManager: ManagedObjectReference;
  fileManager?: ManagedObjectReference;
  virtualDiskManager?: ManagedObjectReference;
  searchIndex?: ManagedObjectReference;
  vStorageObjectManager?: ManagedObjectReference;
  about: { name: string; fullName: string; version: string; apiVersion: string; apiType: string; instanceUuid: string };
}

export interface VsphereCredentials {
  username: string;
  password: string;
}

const SERVICE_INSTANCE: ManagedObjectReference = { type: 'ServiceInstance', value: 'ServiceInstance' };

function readServiceContent(node: XmlNode | undefined): ServiceContent {
  const ref = (name: string) => toMoref(child(node, name));
  const required = (name: string) => {
    const r = ref(name);
    if (!r) throw new VsphereError('NotSoap', `The server's ServiceContent has no ${name}: it is not a vSphere endpoint`);
    return r;
  };
  const about = child(node, 'about');
  return {
    rootFolder: required('rootFolder'),
    propertyCollector: required('propertyCollector'),
    viewManager: required('viewManager'),
    sessionManager: required('sessionManager'),
    fileManager: ref('fileManager'),
    virtualDiskManager: ref('virtualDiskManager'),
    searchIndex: ref('searchIndex'),
    vStorageObjectManager: ref('vStorageObjectManager'),
    about: {
      name: childText(about, 'name') ?? '',
      fullName: childText(about, 'fullName') ?? '',
      version: childText(about, 'version') ?? '',
      apiVersion: childText(about, 'apiVersion') ?? '',
      apiType: childText(about, 'apiType') ?? '',
      instanceUuid: childText(about, 'instanceUuid') ?? '',
    },
  };
}

/**
 * A logged-in vSphere session: the SOAP connection (pinned, with its cookie)
 * and the ServiceContent. Close it with `logout()` (ends the server-side
 * session too) or `close()` (only drops the sockets).
 */
export class VsphereSession {
  private constructor(
    readonly soap: SoapConnection,
    readonly content: ServiceContent,
    readonly username: string,
  ) {}

  get label(): string {
    return this.soap.label;
  }

  /** RetrieveServiceContent, then Login. Wrong credentials → VsphereError kind `InvalidLogin` ("Cannot log in to <host>: incorrect user name or password"). */
  static async login(target: VsphereTarget, credentials: VsphereCredentials): Promise<VsphereSession> {
    const soap = new SoapConnection(target);
    try {
      const content = readServiceContent(await soap.call('RetrieveServiceContent', { _this: moref(SERVICE_INSTANCE) }));
      await soap.call('Login', { _this: moref(content.sessionManager), userName: credentials.username, password: credentials.password });
      return new VsphereSession(soap, content, credentials.username);
    } catch (err) {
      soap.close();
      throw err;
    }
  }

  call(method: string, args: Parameters<SoapConnection['call']>[1]): Promise<XmlNode | undefined> {
    return this.soap.call(method, args);
  }

  /** SessionIsActive for this session's own key, as the server sees it now. */
  async isActive(): Promise<boolean> {
    const current = await this.currentSessionKey();
    if (!current) return false;
    const answer = await this.call('SessionIsActive', { _this: moref(this.content.sessionManager), sessionID: current, userName: this.username });
    return text(answer) === 'true';
  }

  private async currentSessionKey(): Promise<string | undefined> {
    const answer = await this.call('RetrievePropertiesEx', {
      _this: moref(this.content.propertyCollector),
      specSet: { propSet: { type: 'SessionManager', pathSet: 'currentSession' }, objectSet: { obj: moref(this.content.sessionManager) } },
      options: {},
    });
    const val = child(child(child(child(answer, 'objects'), 'propSet'), 'val'), 'key');
    return val === undefined ? undefined : text(val);
  }

  /** Logout (best effort: a session already gone is fine), then drop the sockets. */
  async logout(): Promise<void> {
    try {
      await this.call('Logout', { _this: moref(this.content.sessionManager) });
    } catch {
      // The server may have ended the session already; the sockets close below either way.
    } finally {
      this.soap.close();
    }
  }

  close(): void {
    this.soap.close();
  }
}

/** Logs in, runs `work`, logs out whatever happens. */
export async function withVsphereSession<T>(target: VsphereTarget, credentials: VsphereCredentials, work: (session: VsphereSession) => Promise<T>): Promise<T> {
  const session = await VsphereSession.login(target, credentials);
  try {
    return await work(session);
  } finally {
    await session.logout();
  }
}
