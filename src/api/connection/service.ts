import { isIP } from 'node:net';
import { badRequest, ApiError } from '../../http/errors.js';
import { renamedField } from '../../http/renamed-fields.js';
import { isRevisionAtLeast } from '../../http/api-version.js';
import { probeTlsCertificate, type TlsProbeResult } from '../../probe/tls-probe.js';
import { probeSshHostKey, type SshProbeResult } from '../../probe/ssh-probe.js';
import { ProbeError, bareHost } from '../../probe/errors.js';
import { runBatch } from '../../probe/batch.js';
import type { SshLogin } from '../../probe/ssh-session.js';
import { certificateModel } from '../service/service.js';
import { checkPrivateKey, type CredentialsRow, type CredentialsService } from '../credentials/service.js';
import type { ManagedServerType } from './schemas.js';

/**
 * Default ports. ViHost: vSphere's HTTPS API. LinuxHost: SSH (or the
 * credentials record's SSHPort). WindowsHost: 5986, WinRM over HTTPS, the
 * TLS endpoint a Windows server exposes for remote management with its own
 * machine certificate (443 belongs to IIS, which most servers do not run).
 */
export const DEFAULT_PORTS: Record<ManagedServerType, number> = { ViHost: 443, LinuxHost: 22, WindowsHost: 5986 };

/** The credentials kind each server type logs in with. */
export const CREDENTIALS_TYPE_FOR: Record<ManagedServerType, 'Linux' | 'Standard'> = { LinuxHost: 'Linux', ViHost: 'Standard', WindowsHost: 'Standard' };

export type HostProbe = { kind: 'ssh'; ssh: SshProbeResult } | { kind: 'tls'; tls: TlsProbeResult };

/** The non-secret facts of single-use (or any) Linux credentials. */
export interface LinuxLoginSettings {
  username: string;
  sshPort: number;
  elevateToRoot: boolean;
  addToSudoers: boolean;
  useSu: boolean;
}

/** Single-use credentials from a request body, checked; secrets kept apart so they can be sealed or used and dropped. */
export interface SingleUseCredentials {
  settings: LinuxLoginSettings;
  secrets: { password?: string; privateKey?: string; passphrase?: string; rootPassword?: string };
}

type Body = Record<string, unknown>;
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** A DNS name or an IP address; anything else (spaces, CR/LF, URLs) is refused before it reaches a socket or a Host header. */
export function checkServerName(field: string, value: string): string {
  const host = bareHost(value);
  const isName = /^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})$/.test(host) && !host.includes('..');
  if (!isIP(host) && !isName) throw badRequest(`The field "${field}" must be a DNS name or an IP address; "${value.slice(0, 80)}" is neither.`);
  return host;
}

/** Reads LinuxCredentialsSpec (either revision's spelling) into settings and secrets; 400 when it cannot log in. */
export function readSingleUseCredentials(spec: Body, field = 'singleUseCredentials'): SingleUseCredentials {
  const username = text(spec.username);
  if (!username) throw badRequest(`The field "${field}.username" is required.`);
  const password = text(spec.password);
  const privateKey = text(spec.privateKey);
  const passphrase = text(spec.passphrase);
  if (!password && !privateKey) throw badRequest(`The field "${field}" needs a "password" or a "privateKey".`);
  if (passphrase && !privateKey) throw badRequest(`The field "${field}.passphrase" needs a "privateKey" to go with it.`);
  if (privateKey) checkPrivateKey(privateKey, passphrase);
  const port = spec.SSHPort;
  return {
    settings: {
      username,
      sshPort: typeof port === 'number' ? port : 22,
      elevateToRoot: renamedField<boolean>(spec, 'autoElevated', 'elevateToRoot') === true,
      addToSudoers: spec.addToSudoers === true,
      useSu: spec.useSu === true,
    },
    secrets: { password, privateKey, passphrase, rootPassword: text(spec.rootPassword) },
  };
}

export function loginFrom(settings: LinuxLoginSettings, secrets: SingleUseCredentials['secrets']): SshLogin {
  return { username: settings.username, password: secrets.password, privateKey: secrets.privateKey, passphrase: secrets.passphrase };
}

export function linuxSettingsOf(row: CredentialsRow): LinuxLoginSettings {
  return {
    username: row.username,
    sshPort: Number(row.ssh_port) || 22,
    elevateToRoot: Number(row.elevate_to_root) === 1,
    addToSudoers: Number(row.add_to_sudoers) === 1,
    useSu: Number(row.use_su) === 1,
  };
}

/** A probe failure as the client sees it: a 400 saying what happened. */
export function probeFailure(err: unknown): unknown {
  return err instanceof ProbeError ? badRequest(err.message) : err;
}

/** CertificateModel of a probed leaf: the documented fields, plus `isTrusted` for the 1.3 clients whose parsers require it. */
export function probedCertificateModel(result: TlsProbeResult, revision: string | undefined) {
  const { isTrusted: _ignored, ...documented } = certificateModel(result.description);
  return isRevisionAtLeast(revision, '1.3-rev0') ? { ...documented, isTrusted: result.trusted } : documented;
}

export interface BatchTarget {
  serverName: string;
  type: ManagedServerType;
  port?: number | null;
}

/**
 * `POST /api/v1/connectionCertificate` and its batch form: connects to a host
 * and reports the TLS certificate or SSH host key it presents. Nothing is
 * stored or trusted here; the client pins what it was shown when it adds the server.
 */
export class ConnectionService {
  constructor(
    private readonly credentials: CredentialsService,
    readonly probeTimeoutMs: number,
  ) {}

  /** The credentials record a server of `type` logs in with: 400 (with its id) when missing or of the wrong kind. */
  async credentialsFor(type: ManagedServerType, credentialsId: string, field = 'credentialsId'): Promise<CredentialsRow> {
    let row: CredentialsRow;
    try {
      row = await this.credentials.get(credentialsId);
    } catch (err) {
      // A body that names a missing record is a bad request, not a missing URL.
      if (err instanceof ApiError && err.status === 404) throw badRequest(`The field "${field}": credentials record ${credentialsId} was not found.`, credentialsId);
      throw err;
    }
    const wanted = CREDENTIALS_TYPE_FOR[type];
    if (row.type !== wanted) {
      throw badRequest(`The field "${field}": credentials record "${row.username}" (${credentialsId}) is ${row.type}; a ${type} needs ${wanted} credentials.`, credentialsId);
    }
    return row;
  }

  secretsFor(credentialsId: string) {
    return this.credentials.secretsFor(credentialsId);
  }

  /** Probes what the server type speaks: SSH for LinuxHost, TLS otherwise. */
  async probe(type: ManagedServerType, host: string, port: number, options: { signal?: AbortSignal; hostKeyAlgorithm?: string } = {}): Promise<HostProbe> {
    const probeOptions = { timeoutMs: this.probeTimeoutMs, signal: options.signal };
    if (type === 'LinuxHost') return { kind: 'ssh', ssh: await probeSshHostKey(host, port, { ...probeOptions, hostKeyAlgorithm: options.hostKeyAlgorithm }) };
    return { kind: 'tls', tls: await probeTlsCertificate(host, port, probeOptions) };
  }

  /** The documented call: validates the body (400 before any connection), then probes. */
  async connectionCertificate(spec: Body, revision: string | undefined) {
    const type = spec.type as ManagedServerType;
    const host = checkServerName('serverName', String(spec.serverName));
    let port = typeof spec.port === 'number' ? spec.port : undefined;
    const storage = spec.credentialsStorageType ?? (spec.credentialsId ? 'Permanent' : spec.singleUseCredentials ? 'SingleUse' : 'Permanent');
    if (storage === 'SingleUse') {
      if (type !== 'LinuxHost') throw badRequest('Single-use credentials are for LinuxHost servers only.');
      if (!spec.singleUseCredentials || typeof spec.singleUseCredentials !== 'object')
        throw badRequest('The field "singleUseCredentials" is required when credentialsStorageType is SingleUse.');
      port ??= readSingleUseCredentials(spec.singleUseCredentials as Body).settings.sshPort;
    } else {
      if (typeof spec.credentialsId !== 'string') throw badRequest('The request body is missing the required field "credentialsId".');
      const row = await this.credentialsFor(type, spec.credentialsId);
      if (type === 'LinuxHost') port ??= Number(row.ssh_port) || undefined;
    }
    port ??= DEFAULT_PORTS[type];
    try {
      const probed = await this.probe(type, host, port);
      return probed.kind === 'ssh' ? { fingerprint: probed.ssh.fingerprint, certificate: null } : { fingerprint: null, certificate: probedCertificateModel(probed.tls, revision) };
    } catch (err) {
      throw probeFailure(err);
    }
  }

  /** Many probes at once under one deadline; every target gets its result or its error, in the order given. */
  async batch(targets: BatchTarget[], options: { concurrency?: number; deadlineMs?: number }, revision: string | undefined) {
    const checked = targets.map((t, i) => ({ ...t, serverName: checkServerName(`targets[${i}].serverName`, t.serverName), port: t.port ?? DEFAULT_PORTS[t.type] }));
    const started = performance.now();
    const outcomes = await runBatch(checked, { concurrency: options.concurrency ?? 64, deadlineMs: options.deadlineMs ?? 15_000 }, (t, signal) =>
      t.type === 'LinuxHost'
        ? probeSshHostKey(t.serverName, t.port, { timeoutMs: this.probeTimeoutMs, signal }).then((ssh): HostProbe => ({ kind: 'ssh', ssh }))
        : probeTlsCertificate(t.serverName, t.port, { timeoutMs: this.probeTimeoutMs, signal }).then((tls): HostProbe => ({ kind: 'tls', tls })),
    );
    const results = outcomes.map((o, i) => {
      const t = checked[i]!;
      const base = { serverName: t.serverName, type: t.type, port: t.port, elapsedMs: Math.round(o.elapsedMs * 10) / 10 };
      if (!o.ok) {
        const error = o.error instanceof ProbeError ? { kind: o.error.kind, message: o.error.message } : { kind: 'Canceled', message: (o.error as Error).message };
        return { ...base, fingerprint: null, hostKeyAlgorithm: null, certificate: null, error };
      }
      return o.value.kind === 'ssh'
        ? { ...base, fingerprint: o.value.ssh.fingerprint, hostKeyAlgorithm: o.value.ssh.algorithm, certificate: null, error: null }
        : { ...base, fingerprint: null, hostKeyAlgorithm: null, certificate: probedCertificateModel(o.value.tls, revision), error: null };
    });
    const failed = results.filter((r) => r.error !== null).length;
    return { elapsedMs: Math.round(performance.now() - started), succeeded: results.length - failed, failed, results };
  }
}
