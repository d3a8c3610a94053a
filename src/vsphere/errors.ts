/**
 * Why a vSphere call failed, in words a person can act on. `kind` names the
 * vSphere fault (InvalidLogin, NotAuthenticated, MethodNotFound, …) or a
 * transport failure, so callers can tell them apart without parsing messages.
 * Messages name the host, never a password or a session cookie.
 */
export type VsphereTransportFailure = 'Unreachable' | 'TimedOut' | 'CertificateMismatch' | 'HttpError' | 'NotSoap' | 'Canceled';

export class VsphereError extends Error {
  constructor(
    /** A vSphere fault type name (e.g. `InvalidLogin`) or a transport failure. */
    readonly kind: VsphereTransportFailure | string,
    message: string,
    /** The server's own fault string, when it sent one. */
    readonly faultString?: string,
  ) {
    super(message);
    // The session runner tells these to the client as they are (see probe/errors.ts).
    this.name = 'UserFacingError';
  }
}

/** The server does not implement the method (vcsim lacks QueryChangedDiskAreas, for one). */
export function isMethodMissing(err: unknown): boolean {
  return err instanceof VsphereError && (err.kind === 'MethodNotFound' || err.kind === 'NotImplemented' || err.kind === 'NotSupported');
}

const faultWords: Record<string, (host: string) => string> = {
  InvalidLogin: (host) => `Cannot log in to ${host}: incorrect user name or password`,
  NotAuthenticated: (host) => `The session with ${host} is not logged in (it expired or was closed)`,
  NoPermission: (host) => `The account used for ${host} lacks a permission this operation needs`,
  ManagedObjectNotFound: (host) => `${host} no longer has the object asked for (it was removed or renamed)`,
  MethodNotFound: (host) => `${host} does not offer this vSphere method`,
  InvalidPowerState: (host) => `The virtual machine on ${host} is not in the power state this operation needs`,
  FileNotFound: (host) => `A file asked for does not exist on a datastore of ${host}`,
  FileAlreadyExists: (host) => `A file to create already exists on a datastore of ${host}`,
  DuplicateName: (host) => `An object with that name already exists on ${host}`,
  TaskInProgress: (host) => `Another task is running on that object on ${host}; try again when it ends`,
};

/** A SOAP fault as an error: the fault's meaning first, the server's words after. */
export function faultError(host: string, method: string, kind: string, faultString: string): VsphereError {
  const words = faultWords[kind];
  const detail = faultString && faultString !== kind ? faultString : '';
  const message = words
    ? `${words(host)}${kind === 'InvalidLogin' ? '' : detail ? ` (${method}: ${detail})` : ` (${method})`}`
    : `${host} refused ${method}: ${kind}${detail ? `: ${detail}` : ''}`;
  return new VsphereError(kind, message, faultString);
}
