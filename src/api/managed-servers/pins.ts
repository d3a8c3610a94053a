import { sha256Hex } from '../../pki/fingerprints.js';
import type { PresentedIdentity } from './host-checks.js';

/** The columns that pin a server to the identity just checked. */
export function pinColumns(identity: PresentedIdentity) {
  if (identity.kind === 'ssh') {
    return {
      ssh_host_key: identity.key.blob.toString('base64'),
      ssh_host_key_algorithm: identity.key.algorithm,
      ssh_fingerprint: identity.key.fingerprint,
      certificate_thumbprint: null,
      certificate_sha256: null,
    };
  }
  return {
    ssh_host_key: null,
    ssh_host_key_algorithm: null,
    ssh_fingerprint: null,
    certificate_thumbprint: identity.description.thumbprint,
    certificate_sha256: sha256Hex(identity.der),
  };
}
