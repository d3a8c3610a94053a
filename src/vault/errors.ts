/**
 * Why the vault could not seal or open a secret. Messages name keys and records
 * by id only: they never carry a secret, a key or a sealed value.
 */
export type VaultErrorReason =
  /** The sealed value names a master key this process does not hold (lost, or retired too early). */
  | 'UnknownMasterKey'
  /** Authentication failed: the value was altered, or it belongs to another record or field. */
  | 'DoesNotOpen'
  /** Not a sealed value of a format this version understands. */
  | 'Malformed'
  /** The master key file or RAMPART_MASTER_KEY cannot be used. */
  | 'BadMasterKey'
  /** Another rotation holds the lock. */
  | 'RotationRunning';

export class VaultError extends Error {
  constructor(
    readonly reason: VaultErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'VaultError';
  }
}
