import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { hostKeyFromBlob, type SshHostKey } from './ssh-host-key.js';

/**
 * OpenSSH known_hosts lines, written and read. A host on port 22 is written
 * `name`, any other port `[name]:port`; hashed entries (`HashKnownHosts yes`)
 * are `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
 */

export function knownHostsName(host: string, port: number): string {
  // OpenSSH lower-cases names before writing or hashing them.
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

export function hashKnownHostsName(name: string, salt: Buffer = randomBytes(20)): string {
  const digest = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${digest.toString('base64')}`;
}

export function knownHostsLine(host: string, port: number, key: Pick<SshHostKey, 'algorithm' | 'blob'>, hashed: boolean): string {
  const name = knownHostsName(host, port);
  return `${hashed ? hashKnownHostsName(name) : name} ${key.algorithm} ${key.blob.toString('base64')}`;
}

export interface KnownHostsEntry {
  lineNumber: number;
  /** Plain names/patterns of the line (empty for a hashed line). */
  names: string[];
  /** For a hashed line: salt and digest. */
  hashed?: { salt: Buffer; digest: Buffer };
  key: SshHostKey;
  /** `@revoked` / `@cert-authority` lines are not pins: they are reported and skipped. */
  marker?: string;
}

export interface KnownHostsProblem {
  lineNumber: number;
  message: string;
}

/** Parses a known_hosts text; comments and blank lines are skipped, bad lines reported. */
export function parseKnownHosts(text: string): { entries: KnownHostsEntry[]; problems: KnownHostsProblem[] } {
  const entries: KnownHostsEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const lineNumber = i + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    let fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0]?.startsWith('@')) {
      marker = fields[0];
      fields = fields.slice(1);
    }
    const [hosts, algorithm, base64] = fields;
    if (!hosts || !algorithm || !base64) return problems.push({ lineNumber, message: 'expected "hosts key-type base64-key"' });
    const blob = Buffer.from(base64, 'base64');
    const key = hostKeyFromBlob(blob);
    if (blob.length === 0 || key.algorithm !== algorithm) return problems.push({ lineNumber, message: `the key is not a valid ${algorithm} public key` });
    const hashedMatch = /^\|1\|([^|]+)\|([^|]+)$/.exec(hosts);
    if (hashedMatch) {
      entries.push({ lineNumber, names: [], hashed: { salt: Buffer.from(hashedMatch[1]!, 'base64'), digest: Buffer.from(hashedMatch[2]!, 'base64') }, key, marker });
    } else {
      entries.push({ lineNumber, names: hosts.split(',').filter(Boolean), key, marker });
    }
  });
  return { entries, problems };
}

/** Whether the entry names host:port (plain names compared case-insensitively; wildcards are not pins and never match). */
export function entryNames(entry: KnownHostsEntry, host: string, port: number): boolean {
  const name = knownHostsName(host, port);
  if (entry.hashed) {
    const digest = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return digest.length === entry.hashed.digest.length && timingSafeEqual(digest, entry.hashed.digest);
  }
  return entry.names.some((n) => !n.startsWith('!') && !/[*?]/.test(n) && n.toLowerCase() === name.toLowerCase());
}
