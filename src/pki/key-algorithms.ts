/**
 * The key algorithms Rampart can generate a server certificate with.
 * ECDSA P-256 is the default: it is fast to generate and every TLS client
 * Veeam software ships with accepts it.
 */
export const keyAlgorithmNames = ['ECDSA-P256', 'ECDSA-P384', 'RSA-2048', 'RSA-3072', 'RSA-4096'] as const;

export type KeyAlgorithmName = (typeof keyAlgorithmNames)[number];

export const defaultKeyAlgorithm: KeyAlgorithmName = 'ECDSA-P256';

export function isKeyAlgorithmName(value: unknown): value is KeyAlgorithmName {
  return typeof value === 'string' && (keyAlgorithmNames as readonly string[]).includes(value);
}
