import type { Store } from '../../store/database.js';
import { entryNames, knownHostsLine, parseKnownHosts, type KnownHostsEntry } from '../../probe/known-hosts.js';
import { hostKeyFromBlob } from '../../probe/ssh-host-key.js';

/** ssh2's order of preference: the key type a fresh connection would be shown first. */
const PREFERENCE = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'];

export type ImportAction = 'pinned' | 'unchanged' | 'replaced' | 'notManaged' | 'skipped' | 'invalid';

export interface ImportResult {
  lineNumber: number;
  serverId: string | null;
  serverName: string | null;
  action: ImportAction;
  fingerprint: string | null;
  message: string;
}

/** The pinned SSH host keys of the Linux servers as an OpenSSH known_hosts file (hashed names on request). */
export async function exportKnownHosts(store: Store, hashed: boolean): Promise<string> {
  const rows = await store.db
    .selectFrom('managed_servers')
    .select(['name', 'port', 'ssh_host_key', 'ssh_host_key_algorithm'])
    .where('type', '=', 'LinuxHost')
    .where('ssh_host_key', 'is not', null)
    .orderBy('name_key')
    .execute();
  const lines = rows.map((r) => knownHostsLine(r.name, r.port ?? 22, hostKeyFromBlob(Buffer.from(r.ssh_host_key!, 'base64')), hashed));
  return `# SSH host keys pinned by Rampart for its managed Linux servers, ${new Date().toISOString()}\n${lines.join('\n')}${lines.length ? '\n' : ''}`;
}

function rank(entry: KnownHostsEntry, pinnedAlgorithm: string | null): number {
  if (entry.key.algorithm === pinnedAlgorithm) return -1;
  const i = PREFERENCE.indexOf(entry.key.algorithm);
  return i < 0 ? PREFERENCE.length : i;
}

/**
 * Imports a known_hosts file as pins for the Linux servers that exist (matched
 * by name and port, plain or hashed). Per server one key is pinned: the one of
 * the type already pinned, else the type a connection prefers. Hosts that are
 * not managed servers are reported, not kept. A replaced pin is an
 * administrator's explicit trust decision; the next rescan checks the host against it.
 */
export async function importKnownHosts(store: Store, text: string): Promise<ImportResult[]> {
  const { entries, problems } = parseKnownHosts(text);
  const results: ImportResult[] = problems.map((p) => ({ lineNumber: p.lineNumber, serverId: null, serverName: null, action: 'invalid', fingerprint: null, message: p.message }));
  const servers = await store.db.selectFrom('managed_servers').selectAll().where('type', '=', 'LinuxHost').where('is_backup_server', '=', 0).execute();
  const chosen = new Map<KnownHostsEntry, (typeof servers)[number]>();
  const matched = new Map<KnownHostsEntry, (typeof servers)[number]>();
  for (const server of servers) {
    const candidates = entries.filter((e) => !e.marker && entryNames(e, server.name, server.port ?? 22));
    candidates.forEach((e) => matched.set(e, server));
    const best = candidates.sort((a, b) => rank(a, server.ssh_host_key_algorithm) - rank(b, server.ssh_host_key_algorithm))[0];
    if (best) chosen.set(best, server);
  }
  for (const entry of entries) {
    const fingerprint = entry.key.fingerprint;
    const server = chosen.get(entry);
    if (entry.marker) {
      results.push({ lineNumber: entry.lineNumber, serverId: null, serverName: null, action: 'skipped', fingerprint, message: `${entry.marker} lines are not pins.` });
    } else if (server) {
      const blob = entry.key.blob.toString('base64');
      const action: ImportAction = server.ssh_host_key === blob ? 'unchanged' : server.ssh_host_key ? 'replaced' : 'pinned';
      if (action !== 'unchanged') {
        await store.db
          .updateTable('managed_servers')
          .set({ ssh_host_key: blob, ssh_host_key_algorithm: entry.key.algorithm, ssh_fingerprint: fingerprint, updated_at: new Date().toISOString() })
          .where('id', '=', server.id)
          .execute();
      }
      const message = action === 'replaced' ? `Pin replaced (was ${server.ssh_fingerprint}); rescan the server to check it.` : action === 'pinned' ? 'Pinned.' : 'Already pinned.';
      results.push({ lineNumber: entry.lineNumber, serverId: server.id, serverName: server.name, action, fingerprint, message });
    } else if (matched.has(entry)) {
      const other = matched.get(entry)!;
      results.push({
        lineNumber: entry.lineNumber,
        serverId: other.id,
        serverName: other.name,
        action: 'skipped',
        fingerprint,
        message: 'Another key of this host was pinned from the same file.',
      });
    } else {
      const names = entry.hashed ? 'a hashed name' : entry.names.join(',');
      results.push({
        lineNumber: entry.lineNumber,
        serverId: null,
        serverName: null,
        action: 'notManaged',
        fingerprint,
        message: `${names} is not a managed Linux server; add it first.`,
      });
    }
  }
  return results.sort((a, b) => a.lineNumber - b.lineNumber);
}
