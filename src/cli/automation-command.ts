import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import pino from 'pino';
import { Value } from 'typebox/value';
import type { RampartConfig } from '../config.js';
import { openStore } from '../store/database.js';
import { SessionRunner } from '../sessions/runner.js';
import { createVaultSections } from '../api/vault/sections.js';
import { createAutomation } from '../api/automation/sections/index.js';
import { ConnectionService } from '../api/connection/service.js';
import { ManagedServersService } from '../api/managed-servers/service.js';
import { ProxiesService } from '../api/proxies/service.js';
import { createRepositorySections } from '../api/repositories/sections.js';
import { ManagedServerHosts } from '../api/repositories/managed-server-hosts.js';
import { CONFLICT_MODES, type ConflictMode } from '../api/automation/schemas.js';
import { option, readPasswordFromStdin, reportingUserErrors, type CliOutput } from './io.js';

const EXPORT_USAGE = `usage:
  rampart export --to FILE [--kinds credentials,encryptionPasswords,cloudcredentials,managedServers,repositories,proxies] [--seal]

Writes the configuration to FILE as one JSON object keyed by kind, each value the
documented collection. Secrets are empty, as Veeam exports them; with --seal they
are kept, encrypted under a passphrase read from RAMPART_SEAL_PASSPHRASE or, if
unset, from the first line of standard input.`;

const IMPORT_USAGE = `usage:
  rampart import FILE [--dry-run] [--on-conflict skip|overwrite|fail] [--kind KIND]

Imports a file written by "rampart export" (or one collection, with --kind) in the
documented order, as an automation session the server lists too. A sealed file
needs its passphrase (RAMPART_SEAL_PASSPHRASE or standard input).`;

/** The command line works on the database directly, beside a running server or without one. */
async function openAutomation(config: RampartConfig) {
  const store = await openStore(config.databaseUrl);
  const logger = pino({ level: 'silent' });
  // Its own node id: the server's start-up must never take the command's sessions for its own leftovers.
  const runner = new SessionRunner(store, `cli-${randomUUID()}`, logger);
  const vault = await createVaultSections(config, store, runner, logger);
  // The same services as the server: importing servers and proxies runs the same host checks.
  const connection = new ConnectionService(vault.credentials, config.probeTimeoutMs);
  const managedServers = new ManagedServersService(store, runner, connection, vault.secrets, vault.references);
  // As `serve` does: the backup server is always a managed server, also in a data folder no server has started on yet.
  await managedServers.ensureBackupServer();
  const proxies = new ProxiesService(store, runner, managedServers, vault.references);
  // Repositories too run their storage checks as the server would; the states refresher is never started here.
  const { repositories } = createRepositorySections(config, store, runner, vault, new ManagedServerHosts(managedServers, connection.probeTimeoutMs), logger);
  return { store, runner, automation: createAutomation(runner, vault, { managedServers, proxies, repositories }) };
}

async function passphrase(): Promise<string> {
  return process.env.RAMPART_SEAL_PASSPHRASE || (await readPasswordFromStdin());
}

export async function exportCommand(args: string[], config: RampartConfig, out: CliOutput): Promise<number> {
  const file = option(args, '--to');
  if (!file || args.includes('--help')) {
    (file ? out.print : out.error)(EXPORT_USAGE);
    return file ? 0 : 2;
  }
  const { store, automation } = await openAutomation(config);
  return reportingUserErrors(
    out,
    () => store.close(),
    async () => {
      const kinds =
        option(args, '--kinds')
          ?.split(',')
          .map((k) => k.trim())
          .filter(Boolean) ?? automation.all.map((s) => s.kind);
      const seal = args.includes('--seal') ? await passphrase() : undefined;
      if (seal === '') {
        out.error('--seal needs a passphrase (RAMPART_SEAL_PASSPHRASE or standard input)');
        return 2;
      }
      const result: Record<string, unknown> = {};
      const key = seal !== undefined ? await automation.deriveKey(seal) : undefined;
      for (const kind of kinds) {
        const collection = await automation.export(kind, {}, undefined, key);
        const count = automation.section(kind).items(collection).length;
        result[automation.section(kind).kind] = collection;
        out.print(`exported ${count} ${kind}`);
      }
      await writeFile(file, JSON.stringify(result, null, 2) + '\n', { mode: 0o600 });
      out.print(`wrote ${file}${seal !== undefined ? ' (sealed)' : ' (secrets empty)'}`);
      return 0;
    },
  );
}

export async function importCommand(args: string[], config: RampartConfig, out: CliOutput): Promise<number> {
  const file = args.find((a, i) => !a.startsWith('--') && !['--on-conflict', '--kind'].includes(args[i - 1] ?? ''));
  if (!file || args.includes('--help')) {
    (file ? out.print : out.error)(IMPORT_USAGE);
    return file ? 0 : 2;
  }
  const onConflict = (option(args, '--on-conflict') ?? 'skip') as ConflictMode;
  if (!CONFLICT_MODES.includes(onConflict)) {
    out.error(`--on-conflict must be one of: ${CONFLICT_MODES.join(', ')}`);
    return 2;
  }
  let content: Record<string, unknown>;
  try {
    content = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    out.error(`${file}: ${(err as Error).message}`);
    return 2;
  }
  const { store, runner, automation } = await openAutomation(config);
  return reportingUserErrors(
    out,
    () => store.close(),
    async () => {
      const single = option(args, '--kind');
      const entries = single ? [[single, content] as const] : Object.entries(content);
      const parts = [];
      for (const [kind, collection] of entries) {
        const section = automation.section(kind);
        // The same schema the API checks: a malformed file changes nothing.
        const error = [...Value.Errors(section.importSchema, collection)][0];
        if (error) {
          out.error(`${file}: ${kind}${error.instancePath}: ${error.message}`);
          return 2;
        }
        parts.push({ kind: section.kind, collection: collection as Record<string, unknown> });
      }
      const sealed = parts.some((p) => p.collection.rampartSeal);
      let shown = -1;
      const session = await automation.startImport(parts, {
        onConflict,
        dryRun: args.includes('--dry-run'),
        passphrase: sealed ? await passphrase() : undefined,
        createdBy: 'command line',
        onProgress: (done, total) => {
          const percent = total === 0 ? 100 : Math.floor((done * 100) / total);
          if (percent >= shown + 10 || done === total) {
            shown = percent;
            out.print(`imported ${done}/${total}`);
          }
        },
      });
      out.print(`import session ${session.id} started`);
      await runner.settled(session.id);
      const ended = (await runner.find(session.id))!;
      const log = await store.db.selectFrom('session_logs').select(['status', 'title']).where('session_id', '=', session.id).orderBy('record_id').execute();
      for (const r of log) if (r.status === 'Warning' || r.status === 'Failed') out.print(`${r.status}: ${r.title}`);
      out.print(`${ended.result}: ${ended.resultMessage ?? ''}`);
      return ended.result === 'Failed' ? 1 : 0;
    },
  );
}
