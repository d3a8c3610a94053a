import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { fingerprintMatches } from '../pki/fingerprints.js';
import { VsphereError } from './errors.js';

/**
 * HTTPS to one vCenter or ESXi host, pinned to the certificate thumbprint
 * stored with the ViHost managed server. The pin is checked right after the
 * handshake and before the socket is handed to the HTTP layer, so no request
 * (a login, a session cookie) is ever written to a host that does not match.
 */

export interface VsphereTarget {
  /** Host name or address as stored with the managed server ([v6] brackets allowed). */
  host: string;
  port: number;
  /** The pinned certificate thumbprint (SHA-1 hex, any separator; SHA-256 also read). */
  thumbprint: string;
  /** Longest wait for one SOAP call, connection included (default 30 s). */
  timeoutMs?: number;
  /** Aborts every request in flight (a stopped session). */
  signal?: AbortSignal;
}

export function hostLabel(target: Pick<VsphereTarget, 'host' | 'port'>): string {
  const host = bare(target.host);
  const shown = host.includes(':') ? `[${host}]` : host;
  return target.port === 443 ? shown : `${shown}:${target.port}`;
}

export function bare(host: string): string {
  const trimmed = host.trim();
  return trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed;
}

/** Why a socket failed, said about the host. */
export function transportError(target: Pick<VsphereTarget, 'host' | 'port'>, err: unknown): VsphereError {
  if (err instanceof VsphereError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const where = hostLabel(target);
  if (code === 'ECONNREFUSED') return new VsphereError('Unreachable', `Cannot reach ${where}: the connection was refused (is the port right?)`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new VsphereError('Unreachable', `Cannot reach ${where}: the name does not resolve`);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new VsphereError('Unreachable', `Cannot reach ${where}: no route to the host`);
  if (code === 'ECONNRESET' || code === 'EPIPE') return new VsphereError('Unreachable', `${where} closed the connection`);
  if (code === 'ABORT_ERR') return new VsphereError('Canceled', `The request to ${where} was canceled`);
  return new VsphereError('Unreachable', `Cannot talk to ${where}: ${err instanceof Error ? err.message : String(err)}`);
}

/**
 * A TLS connection to the target, handed over (`done`) only once the peer's
 * certificate matched the pin. `extra` adds socket options (e.g. `onread`).
 */
export function connectPinned(target: VsphereTarget, options: tls.ConnectionOptions, done: (err: Error | null, socket: tls.TLSSocket) => void): void {
  const host = bare(target.host);
  const socket = tls.connect({ ...options, host, port: target.port, servername: isIP(host) ? undefined : host, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  // A host that accepts TCP but never finishes TLS must not keep the socket forever.
  const timer = setTimeout(() => fail(new VsphereError('TimedOut', `${hostLabel(target)} did not complete a TLS handshake`)), target.timeoutMs ?? 30_000);
  const fail = (err: Error) => {
    clearTimeout(timer);
    socket.destroy();
    done(err, socket);
  };
  socket.once('error', fail);
  socket.once('secureConnect', () => {
    clearTimeout(timer);
    socket.off('error', fail);
    const der = socket.getPeerCertificate().raw;
    if (!der || !fingerprintMatches(target.thumbprint, der)) {
      return fail(
        new VsphereError(
          'CertificateMismatch',
          `The certificate of ${hostLabel(target)} does not match the pinned thumbprint ${target.thumbprint}: nothing was sent. If the certificate was replaced on purpose, edit the server with the new certificateThumbprint.`,
        ),
      );
    }
    done(null, socket);
  });
}

class PinnedAgent extends https.Agent {
  constructor(private readonly target: VsphereTarget) {
    super({ keepAlive: true, maxSockets: 8 });
  }

  override createConnection(options: tls.ConnectionOptions, done?: (err: Error | null, socket: Duplex) => void): Duplex | undefined {
    connectPinned(this.target, options, (err, socket) => done?.(err, socket as Socket));
    return undefined;
  }
}

export function pinnedAgent(target: VsphereTarget): https.Agent {
  return new PinnedAgent(target);
}
