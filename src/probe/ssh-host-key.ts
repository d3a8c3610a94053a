import { opensshSha256Fingerprint } from '../pki/fingerprints.js';

/** A host key as SSH sends it: the wire blob, its algorithm and OpenSSH's fingerprint of it. */
export interface SshHostKey {
  /** The public key blob (what known_hosts holds in base64). */
  blob: Buffer;
  /** `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, … (the blob's own type name). */
  algorithm: string;
  /** `SHA256:<unpadded base64>`, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

/** The blob starts with its type name as an SSH string (uint32 length, then bytes). */
export function hostKeyFromBlob(blob: Buffer): SshHostKey {
  const length = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  const algorithm = length > 0 && length < 64 && blob.length >= 4 + length ? blob.subarray(4, 4 + length).toString('latin1') : 'unknown';
  return { blob: Buffer.from(blob), algorithm, fingerprint: opensshSha256Fingerprint(blob) };
}

/**
 * The host key algorithms to offer so the server presents the key of the
 * pinned type: a host with ed25519, ECDSA and RSA keys would otherwise show
 * whichever one ssh2 prefers, which may not be the one pinned.
 */
export function hostKeyAlgorithmsFor(algorithm: string | undefined): string[] | undefined {
  if (!algorithm) return undefined;
  return algorithm === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [algorithm];
}
