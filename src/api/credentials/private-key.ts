import { ssh2 } from '../../probe/ssh2-library.js';
import { badRequest } from '../../http/errors.js';

function parseError(key: string, passphrase: string | undefined): Error | undefined {
  const parsed = ssh2().utils.parseKey(key, passphrase);
  if (parsed instanceof Error) return parsed;
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!first) return new Error('empty');
  if (!first.isPrivateKey()) return new Error('public');
  return undefined;
}

/**
 * Checks that a Linux private key opens, as the ssh2 package that will use it
 * reads it (OpenSSH, PEM and PuTTY formats), and says precisely why not. The
 * messages never quote the key or the passphrase.
 */
export function checkPrivateKey(key: string, passphrase: string | undefined): void {
  const error = parseError(key, passphrase || undefined);
  if (!error) return;
  if (error.message === 'public') throw badRequest('The privateKey field holds a public key; give the private key.');
  if (error.message === 'empty') throw badRequest('The privateKey field holds no key.');
  // Asking again without a passphrase tells an encrypted key from an unreadable one.
  const encrypted = /no passphrase given/i.test(passphrase ? (parseError(key, undefined)?.message ?? '') : error.message);
  if (encrypted && !passphrase) throw badRequest('The private key is encrypted: give its passphrase in the passphrase field.');
  if (encrypted) throw badRequest('The passphrase does not open the private key (wrong passphrase).');
  throw badRequest('The private key cannot be read: give an OpenSSH, PEM or PuTTY (.ppk) private key.');
}
