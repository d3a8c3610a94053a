import { badRequest } from '../../http/errors.js';
import { normalizeFingerprint } from '../../pki/fingerprints.js';
import type { ManagedServerType } from '../connection/schemas.js';
import {
  DEFAULT_PORTS,
  checkServerName,
  linuxSettingsOf,
  readSingleUseCredentials,
  type ConnectionService,
  type LinuxLoginSettings,
  type SingleUseCredentials,
} from '../connection/service.js';
import { NIL_UUID, type ManagedServerRow } from './model.js';
import { COMPONENT_NAMES_1_3 } from '../../revisions/replies/managed-servers.js';

type Body = Record<string, unknown>;

/** What an add or edit asks for, checked: everything the session needs, nothing the client did not say. */
export interface ServerPlan {
  type: ManagedServerType;
  name: string;
  description: string;
  /** The port connected to: SSH for LinuxHost, TLS otherwise. */
  port: number;
  credentialsId: string | null;
  storage: 'Permanent' | 'SingleUse';
  /** LinuxHost: who logs in (from the credentials record or the single-use credentials). */
  login?: LinuxLoginSettings;
  /** Single-use credentials given in this request: used by its session once, never stored. */
  singleUse?: SingleUseCredentials;
  /** The pin the client gave (sshFingerprint / certificateThumbprint), as given. */
  givenPin?: string;
  viHostType: string | null;
  sshSettings: string | null;
  networkSettings: string | null;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

function checkPin(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!normalizeFingerprint(value)) {
    throw badRequest(`The field "${field}" is not a fingerprint: give OpenSSH's SHA256:<base64>, or SHA-256 / SHA-1 / MD5 in hex (with or without colons).`);
  }
  return value;
}

const EARLIER_COMPONENT_NAME: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(COMPONENT_NAMES_1_3).map(([earlier, named]) => [named, earlier]));

function withEarlierComponentName(component: unknown): unknown {
  if (typeof component !== 'object' || component === null || Array.isArray(component)) return component;
  const fields: Record<string, unknown> = { ...component };
  if (typeof fields.componentName === 'string') fields.componentName = EARLIER_COMPONENT_NAME[fields.componentName] ?? fields.componentName;
  return fields;
}

function settingsJson(value: unknown, fallback: string | null): string | null {
  if (value === undefined || value === null) return fallback;
  const settings = { ...(value as Record<string, unknown>) };
  // Stored with the 1.1 spelling; the model emits both.
  if (settings.serverThisSide === undefined && settings.serverSide !== undefined) settings.serverThisSide = settings.serverSide;
  delete settings.serverSide;
  // 1.3's component names (TransportSvc, …) are stored as the earlier ones (Transport, …).
  if (Array.isArray(settings.components)) settings.components = settings.components.map(withEarlierComponentName);
  return JSON.stringify(settings);
}

/**
 * Checks a ManagedServerSpec (add) or ManagedServerModel (edit, with the stored
 * row) and resolves its credentials: every 400 happens here, before a session.
 */
export async function planServer(body: Body, connection: ConnectionService, existing?: ManagedServerRow): Promise<ServerPlan> {
  const type = body.type as ManagedServerType;
  const name = checkServerName('name', String(body.name));
  if (body.description === undefined || body.description === null) {
    if (!existing) throw badRequest('The request body is missing the required field "description" (it may be empty).');
  }
  const description = typeof body.description === 'string' ? body.description : (existing?.description ?? '');
  const plan: ServerPlan = {
    type,
    name,
    description,
    port: DEFAULT_PORTS[type],
    credentialsId: null,
    storage: 'Permanent',
    viHostType: null,
    sshSettings: existing?.ssh_settings ?? null,
    networkSettings: existing?.network_settings ?? null,
  };
  // A model read back carries the nil uuid when the server has no permanent credentials.
  const credentialsId = text(body.credentialsId) === NIL_UUID ? undefined : text(body.credentialsId);
  if (type === 'LinuxHost') {
    plan.givenPin = checkPin('sshFingerprint', text(body.sshFingerprint));
    if (!existing && !plan.givenPin) {
      throw badRequest('The request body is missing the required field "sshFingerprint": get it with POST /api/v1/connectionCertificate, check it, and pass it here.');
    }
    const storage = text(body.credentialsStorageType) ?? (credentialsId ? 'Permanent' : body.singleUseCredentials ? 'SingleUse' : 'Permanent');
    if (storage === 'SingleUse') {
      if (!body.singleUseCredentials || typeof body.singleUseCredentials !== 'object') {
        if (!existing || existing.credentials_storage_type !== 'SingleUse')
          throw badRequest('The field "singleUseCredentials" is required when credentialsStorageType is SingleUse.');
      } else {
        plan.singleUse = readSingleUseCredentials(body.singleUseCredentials as Body);
        plan.login = plan.singleUse.settings;
      }
      plan.storage = 'SingleUse';
    } else {
      if (!credentialsId)
        throw badRequest('The request body is missing the required field "credentialsId" (or, from 1.2, credentialsStorageType SingleUse with singleUseCredentials).');
      const row = await connection.credentialsFor(type, credentialsId);
      plan.credentialsId = credentialsId;
      plan.login = linuxSettingsOf(row);
    }
    plan.port = typeof body.port === 'number' ? body.port : (plan.login?.sshPort ?? existing?.port ?? 22);
    plan.sshSettings = settingsJson(body.sshSettings, plan.sshSettings);
  } else {
    if (!credentialsId) throw badRequest(`The request body is missing the required field "credentialsId" (a ${type} needs Standard credentials).`);
    await connection.credentialsFor(type, credentialsId);
    plan.credentialsId = credentialsId;
    plan.givenPin = checkPin('certificateThumbprint', text(body.certificateThumbprint));
    plan.port = typeof body.port === 'number' ? body.port : (existing?.port ?? DEFAULT_PORTS[type]);
    if (type === 'ViHost') plan.viHostType = text(body.viHostType) ?? existing?.vi_host_type ?? 'VC';
    if (type === 'WindowsHost') plan.networkSettings = settingsJson(body.networkSettings, plan.networkSettings);
  }
  return plan;
}
