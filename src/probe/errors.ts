/**
 * Why a probe or an SSH login failed, in words a person can act on. The kind
 * lets callers (the API, the session log, the batch reply) tell failures apart
 * without parsing messages. Messages name the host and port, never a secret.
 */
export type ProbeFailureKind =
  | 'NameNotResolved'
  | 'ConnectionRefused'
  | 'Unreachable'
  | 'TimedOut'
  | 'WrongProtocol'
  | 'HandshakeFailed'
  | 'Canceled'
  | 'HostKeyMismatch'
  | 'CertificateMismatch'
  | 'AuthenticationFailed'
  | 'ElevationFailed'
  | 'CommandFailed';

export class ProbeError extends Error {
  constructor(
    readonly kind: ProbeFailureKind,
    message: string,
  ) {
    super(message);
    // The session runner logs unexpected failures as warnings; these are expected, told to the client instead.
    this.name = 'UserFacingError';
  }
}

/** `host:port`, with IPv6 literals bracketed as in URLs and known_hosts. */
export function describeTarget(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Accepts `[::1]` as well as `::1`: people paste addresses from URLs. */
export function bareHost(serverName: string): string {
  const trimmed = serverName.trim();
  return trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed;
}
