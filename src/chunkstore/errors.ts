/** What went wrong in a repository, by kind, with a message that names the file, disk or offset. */
export type ChunkStoreErrorKind =
  | 'CorruptChunk'
  | 'MissingChunk'
  | 'CorruptIndex'
  | 'CorruptManifest'
  | 'CorruptKey'
  | 'KeyMissing'
  | 'WrongPassword'
  | 'PasswordRequired'
  | 'UnsupportedFormat'
  | 'NotFound'
  | 'Protected'
  /** Under retention lock (object lock, hardened repository) until a date the message names. */
  | 'Immutable'
  | 'InvalidArgument'
  | 'Aborted'
  /** The repository's volume is full. */
  | 'NoSpace';

export class ChunkStoreError extends Error {
  constructor(
    readonly kind: ChunkStoreErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ChunkStoreError';
  }
}

export function abortError(signal: AbortSignal | undefined): ChunkStoreError {
  const reason = signal?.reason;
  return new ChunkStoreError('Aborted', `The write was stopped${reason instanceof Error && reason.message ? `: ${reason.message}` : ''}.`, { cause: reason });
}
