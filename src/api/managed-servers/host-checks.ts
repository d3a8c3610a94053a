import { fingerprintMatches, sha256Hex } from '../../pki/fingerprints.js';
import { ProbeError, describeTarget } from '../../probe/errors.js';
import { openSshSession } from '../../probe/ssh-session.js';
import { checkElevation, readHostFacts, type LinuxHostFacts } from '../../probe/host-facts.js';
import { checkHttps } from '../../probe/https-check.js';
import type { SshHostKey } from '../../probe/ssh-host-key.js';
import type { CertificateDescription } from '../../pki/describe.js';
import type { SessionContext } from '../../sessions/runner.js';
import { logStep } from '../../sessions/steps.js';
import { withVsphereSession } from '../../vsphere/session.js';
import { loginFrom, type ConnectionService, type LinuxLoginSettings, type SingleUseCredentials } from '../connection/service.js';
import type { ManagedServerType } from '../connection/schemas.js';
import type { ManagedServerRow } from './model.js';

/** The identity a host presents now. */
export type PresentedIdentity = { kind: 'ssh'; key: SshHostKey } | { kind: 'tls'; der: Buffer; description: CertificateDescription };

/** The identity pinned for a server when it was added (or last re-pinned on purpose). */
export interface StoredPin {
  sshHostKey?: Buffer;
  sshAlgorithm?: string;
  sshFingerprint?: string;
  thumbprint?: string;
  sha256?: string;
}

/** The host presents another identity than the one pinned: the server becomes Unavailable, the new identity is not trusted. */
export class PinChanged extends ProbeError {}

export function storedPinOf(row: ManagedServerRow): StoredPin | undefined {
  if (row.ssh_host_key)
    return { sshHostKey: Buffer.from(row.ssh_host_key, 'base64'), sshAlgorithm: row.ssh_host_key_algorithm ?? undefined, sshFingerprint: row.ssh_fingerprint ?? undefined };
  if (row.certificate_thumbprint) return { thumbprint: row.certificate_thumbprint, sha256: row.certificate_sha256 ?? undefined };
  return undefined;
}

function shownPin(pin: StoredPin): string {
  return pin.sshFingerprint ? `${pin.sshFingerprint} (${pin.sshAlgorithm ?? 'unknown type'})` : `thumbprint ${pin.thumbprint}`;
}

function shownIdentity(identity: PresentedIdentity): string {
  return identity.kind === 'ssh' ? `${identity.key.fingerprint} (${identity.key.algorithm})` : `thumbprint ${identity.description.thumbprint}`;
}

function samePinned(pin: StoredPin, identity: PresentedIdentity): boolean {
  if (identity.kind === 'ssh') return pin.sshHostKey !== undefined && pin.sshHostKey.equals(identity.key.blob);
  return pin.sha256 !== undefined ? pin.sha256 === sha256Hex(identity.der) : pin.thumbprint === identity.description.thumbprint;
}

function material(identity: PresentedIdentity): Buffer {
  return identity.kind === 'ssh' ? identity.key.blob : identity.der;
}

export interface IdentityCheck {
  identity: PresentedIdentity;
  /** The stored pin was replaced because the request named the new identity. */
  repinned: boolean;
  /** Nothing was pinned and nothing given: this identity is trusted on first use. */
  firstUse: boolean;
}

/**
 * Probes the host again and compares what it presents with the stored pin and
 * with the pin given in the request. Logs both values whenever they differ.
 */
export async function checkIdentity(
  ctx: SessionContext,
  connection: ConnectionService,
  target: { type: ManagedServerType; name: string; port: number },
  stored: StoredPin | undefined,
  givenPin: string | undefined,
): Promise<IdentityCheck> {
  const where = describeTarget(target.name, target.port);
  const identity = await logStep(
    ctx,
    `Connecting to ${where} (${target.type === 'LinuxHost' ? 'SSH' : 'TLS'})`,
    async (): Promise<PresentedIdentity> => {
      const probed = await connection.probe(target.type, target.name, target.port, { signal: ctx.signal, hostKeyAlgorithm: stored?.sshAlgorithm });
      return probed.kind === 'ssh' ? { kind: 'ssh', key: probed.ssh } : { kind: 'tls', der: probed.tls.der, description: probed.tls.description };
    },
    (found) =>
      found.kind === 'ssh'
        ? `${where} presents SSH host key ${found.key.fingerprint} (${found.key.algorithm})`
        : `${where} presents certificate ${found.description.thumbprint} (${found.description.subject}, valid until ${found.description.validBy.toISOString().slice(0, 10)})`,
  );
  const givenMatches = givenPin !== undefined && fingerprintMatches(givenPin, material(identity));
  const pinName = target.type === 'LinuxHost' ? 'SSH host key fingerprint' : 'certificate thumbprint';
  if (stored && !samePinned(stored, identity)) {
    if (givenMatches) {
      await ctx.log(`The ${pinName} changed and the request names the new one: re-pinned`, 'Warning', `Old: ${shownPin(stored)}. New: ${shownIdentity(identity)}.`);
      return { identity, repinned: true, firstUse: false };
    }
    const message = `The ${pinName} of ${where} changed: pinned ${shownPin(stored)}, the host now presents ${shownIdentity(identity)}. The new identity is not trusted and the server is marked Unavailable; if the change is expected, edit the server with the new ${target.type === 'LinuxHost' ? 'sshFingerprint' : 'certificateThumbprint'}.`;
    await ctx.log('Host identity changed', 'Failed', message);
    throw new PinChanged(target.type === 'LinuxHost' ? 'HostKeyMismatch' : 'CertificateMismatch', message);
  }
  if (givenPin !== undefined && !givenMatches) {
    const message = `The ${pinName} given does not match ${where}: expected ${givenPin}, the host presents ${shownIdentity(identity)}. Nothing was changed.`;
    await ctx.log(`The ${pinName} does not match`, 'Failed', message);
    throw new ProbeError(target.type === 'LinuxHost' ? 'HostKeyMismatch' : 'CertificateMismatch', message);
  }
  if (stored) {
    await ctx.log(`The ${pinName} matches the pin`, 'Succeeded', shownIdentity(identity));
    return { identity, repinned: false, firstUse: false };
  }
  if (givenPin !== undefined) {
    await ctx.log(`The ${pinName} matches the one given`, 'Succeeded', shownIdentity(identity));
    return { identity, repinned: false, firstUse: false };
  }
  return { identity, repinned: false, firstUse: true };
}

export interface LinuxCheck {
  facts: LinuxHostFacts;
  elevation?: string;
}

function gigabytes(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/** Logs in over SSH (the host key must be the one just checked), learns OS, kernel and free space, checks elevation. */
export async function checkLinuxLogin(
  ctx: SessionContext,
  connection: ConnectionService,
  target: { name: string; port: number },
  key: SshHostKey,
  login: LinuxLoginSettings,
  secrets: SingleUseCredentials['secrets'],
): Promise<LinuxCheck> {
  const where = describeTarget(target.name, target.port);
  const method = secrets.privateKey ? 'private key' : 'password';
  const session = await logStep(ctx, `Logging in to ${where} as "${login.username}" with a ${method}`, () =>
    openSshSession(target.name, target.port, loginFrom(login, secrets), key.fingerprint, {
      timeoutMs: connection.probeTimeoutMs,
      signal: ctx.signal,
      hostKeyAlgorithm: key.algorithm,
    }),
  );
  try {
    const facts = await logStep(
      ctx,
      'Reading OS, kernel and free space (uname -srm, /etc/os-release, df -Pk /)',
      () => readHostFacts(session),
      (f) => `${f.osName}; ${f.kernel} ${f.architecture}; ${gigabytes(f.rootFreeBytes)} free of ${gigabytes(f.rootTotalBytes)} on /`,
    );
    let elevation: string | undefined;
    if (login.elevateToRoot || login.useSu) {
      elevation = await logStep(
        ctx,
        `Checking elevation to root (${login.useSu ? 'su' : 'sudo'})`,
        () => checkElevation(session, { username: login.username, useSu: login.useSu, password: secrets.password, rootPassword: secrets.rootPassword }),
        (how) => `Root access works: ${how}`,
      );
    }
    return { facts, elevation };
  } finally {
    session.close();
  }
}

/** ViHost: one real HTTPS request on the checked certificate. */
export async function checkHttpsAnswers(ctx: SessionContext, connection: ConnectionService, target: { name: string; port: number }, thumbprint: string): Promise<void> {
  const where = describeTarget(target.name, target.port);
  await logStep(
    ctx,
    `Checking that ${where} answers HTTPS`,
    () => checkHttps(target.name, target.port, thumbprint, { timeoutMs: connection.probeTimeoutMs, signal: ctx.signal }),
    (answer) => `${where} answers HTTPS: ${answer.statusLine}${answer.server ? ` (Server: ${answer.server.slice(0, 60)})` : ''}`,
  );
}

/** What the vSphere login found: the product, and whether it matches the viHostType asked for. */
export interface VsphereLoginCheck {
  fullName: string;
  apiType: string;
  typeMatches: boolean;
}

/** ViHost: a real vSphere login (RetrieveServiceContent, Login, Logout) over the checked certificate. */
export async function checkVsphereLogin(
  ctx: SessionContext,
  connection: ConnectionService,
  target: { name: string; port: number; viHostType: string | null },
  thumbprint: string,
  credentialsId: string,
): Promise<VsphereLoginCheck> {
  const where = describeTarget(target.name, target.port);
  const row = await connection.credentialsFor('ViHost', credentialsId);
  const secrets = await connection.secretsFor(credentialsId);
  return logStep(
    ctx,
    `Logging in to ${where} (vSphere API) as "${row.username}"`,
    () =>
      withVsphereSession(
        { host: target.name, port: target.port, thumbprint, timeoutMs: connection.probeTimeoutMs, signal: ctx.signal },
        { username: row.username, password: secrets.password ?? '' },
        async (session) => {
          const { fullName, apiType, apiVersion } = session.content.about;
          // vCenter says VirtualCenter, ESX/ESXi say HostAgent.
          const typeMatches = (target.viHostType === 'VC') === (apiType === 'VirtualCenter');
          return { fullName: `${fullName} (API ${apiVersion})`, apiType, typeMatches };
        },
      ),
    (found) => `Logged in to ${where} as "${row.username}": ${found.fullName}`,
  );
}
