import { ProbeError } from '../../probe/errors.js';
import type { SessionContext, SessionOutcome } from '../../sessions/runner.js';
import { logStep } from '../../sessions/steps.js';
import type { Store } from '../../store/database.js';
import { isUniqueViolation } from '../../store/unique-violation.js';
import type { SecretStore } from '../../vault/secret-store.js';
import type { ConnectionService, SingleUseCredentials } from '../connection/service.js';
import { factsColumns, localHostFacts } from './backup-server.js';
import { checkHttpsAnswers, checkIdentity, checkLinuxLogin, checkVsphereLogin, PinChanged, storedPinOf, type IdentityCheck, type LinuxCheck } from './host-checks.js';
import type { ManagedServerRow } from './model.js';
import { pinColumns } from './pins.js';
import type { ServerPlan } from './plan.js';
import { takeSingleUse } from './single-use.js';

/** Failures that say the host is not reachable as pinned: they make an existing server Unavailable. */
const UNREACHABLE = new Set(['NameNotResolved', 'ConnectionRefused', 'Unreachable', 'TimedOut', 'WrongProtocol', 'HandshakeFailed']);

export interface WorkDeps {
  store: Store;
  connection: ConnectionService;
  secrets: SecretStore;
}

async function markUnavailable(deps: WorkDeps, id: string, reason: string): Promise<void> {
  await deps.store.db.updateTable('managed_servers').set({ status: 'Unavailable', status_reason: reason, updated_at: new Date().toISOString() }).where('id', '=', id).execute();
}

/** The secrets a Linux check logs in with: given single-use ones, stored single-use ones (taken once), or the permanent record's. */
async function loginSecrets(deps: WorkDeps, serverId: string | undefined, plan: Pick<ServerPlan, 'storage' | 'singleUse' | 'credentialsId' | 'login'>) {
  if (plan.singleUse) return plan.singleUse;
  if (plan.storage === 'SingleUse') return serverId ? takeSingleUse(deps.store, deps.secrets, serverId) : undefined;
  if (!plan.credentialsId || !plan.login) return undefined;
  return { settings: plan.login, secrets: await deps.connection.secretsFor(plan.credentialsId) } satisfies SingleUseCredentials;
}

/** Everything an add or edit verifies on the host, in order, each step in the log. */
async function verifyHost(
  ctx: SessionContext,
  deps: WorkDeps,
  plan: ServerPlan,
  existing: ManagedServerRow | undefined,
): Promise<{ check: IdentityCheck; linux?: LinuxCheck; warnings: number }> {
  let warnings = 0;
  const target = { type: plan.type, name: plan.name, port: plan.port };
  const stored = existing ? storedPinOf(existing) : undefined;
  let check: IdentityCheck;
  try {
    check = await checkIdentity(ctx, deps.connection, target, stored, plan.givenPin);
  } catch (err) {
    if (existing && (err instanceof PinChanged || (err instanceof ProbeError && UNREACHABLE.has(err.kind)))) await markUnavailable(deps, existing.id, err.message);
    throw err;
  }
  if (check.repinned) warnings++;
  if (check.firstUse) {
    const documented = plan.type === 'ViHost';
    await ctx.log(
      'Trusting the certificate presented now (trust on first use)',
      documented ? 'Warning' : 'None',
      documented
        ? 'No certificateThumbprint was given: the certificate just shown is pinned. Give certificateThumbprint (from POST /api/v1/connectionCertificate) to check it instead.'
        : 'WindowsHost has no documented thumbprint field: the certificate just shown is pinned (Rampart accepts certificateThumbprint here too).',
    );
    if (documented) warnings++;
  }
  await ctx.progress(40);
  let linux: LinuxCheck | undefined;
  if (check.identity.kind === 'ssh') {
    const login = await loginSecrets(deps, existing?.id, plan);
    if (login) {
      linux = await checkLinuxLogin(ctx, deps.connection, target, check.identity.key, login.settings, login.secrets);
      if (plan.storage === 'SingleUse') await ctx.log('The single-use credentials were used once and discarded', 'Succeeded');
    } else {
      await ctx.log('SSH login skipped: the single-use credentials were already used', 'Warning', 'Give new ones with updateSingleUseCredentials to check the login again.');
      warnings++;
    }
  } else {
    if (plan.type === 'ViHost' && plan.credentialsId) {
      const login = await checkVsphereLogin(ctx, deps.connection, { ...target, viHostType: plan.viHostType }, check.identity.description.thumbprint, plan.credentialsId);
      // Said, not warned: the type is the administrator's label, and Rampart reads both kinds the same way.
      if (!login.typeMatches)
        await ctx.log(
          `The server is not a ${plan.viHostType === 'VC' ? 'vCenter Server' : 'standalone ESX(i) host'}`,
          'None',
          `It reports itself as ${login.fullName} (${login.apiType}); viHostType says ${plan.viHostType}.`,
        );
    } else {
      if (plan.type === 'ViHost') await checkHttpsAnswers(ctx, deps.connection, target, check.identity.description.thumbprint);
      await ctx.log('The credentials were not used', 'None', 'Rampart does not speak WinRM/SMB: the credentials are stored, not verified.');
    }
  }
  await ctx.progress(80);
  return { check, linux, warnings };
}

function settingsColumns(plan: ServerPlan) {
  return {
    type: plan.type,
    name: plan.name,
    name_key: plan.name.toLowerCase(),
    description: plan.description,
    description_key: plan.description.toLowerCase(),
    credentials_id: plan.credentialsId,
    credentials_storage_type: plan.storage,
    vi_host_type: plan.viHostType,
    port: plan.port,
    ssh_settings: plan.type === 'LinuxHost' ? plan.sshSettings : null,
    network_settings: plan.type === 'WindowsHost' ? plan.networkSettings : null,
  };
}

export async function addServer(ctx: SessionContext, deps: WorkDeps, id: string, plan: ServerPlan): Promise<SessionOutcome> {
  const { check, linux, warnings } = await verifyHost(ctx, deps, plan, undefined);
  const now = new Date().toISOString();
  await logStep(ctx, `Saving server "${plan.name}"`, async () => {
    try {
      await deps.store.db
        .insertInto('managed_servers')
        .values({
          id,
          ...settingsColumns(plan),
          status: 'Available',
          status_reason: null,
          is_backup_server: 0,
          ...pinColumns(check.identity),
          os_name: null,
          kernel: null,
          architecture: null,
          root_free_bytes: null,
          root_total_bytes: null,
          facts_checked_at: null,
          ...(linux ? factsColumns(linux.facts, now) : {}),
          single_use_login: plan.singleUse ? JSON.stringify({ ...plan.singleUse.settings, usedAt: now }) : null,
          creation_time: now,
          updated_at: now,
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new ProbeError('CommandFailed', `A managed server named "${plan.name}" was added meanwhile; nothing was stored.`);
      throw err;
    }
  });
  return { result: warnings > 0 ? 'Warning' : 'Success', message: `Server "${plan.name}" has been added.` };
}

export async function editServer(ctx: SessionContext, deps: WorkDeps, existing: ManagedServerRow, plan: ServerPlan): Promise<SessionOutcome> {
  const { check, linux, warnings } = await verifyHost(ctx, deps, plan, existing);
  const now = new Date().toISOString();
  await logStep(ctx, `Saving server "${plan.name}"`, async () => {
    await deps.store.db
      .updateTable('managed_servers')
      .set({
        ...settingsColumns(plan),
        status: 'Available',
        status_reason: null,
        ...pinColumns(check.identity),
        ...(linux ? factsColumns(linux.facts, now) : {}),
        ...(plan.storage === 'Permanent' ? { single_use_login: null } : {}),
        updated_at: now,
      })
      .where('id', '=', existing.id)
      .execute();
    if (plan.storage === 'Permanent') await deps.secrets.removeAll(deps.store.db, { kind: 'managedServerSingleUse', id: existing.id });
  });
  return { result: warnings > 0 ? 'Warning' : 'Success', message: `Server "${plan.name}" has been saved.` };
}

/** Rescan: probe again against the pin; any failure makes the server Unavailable, with the reason. */
export async function rescanServer(ctx: SessionContext, deps: WorkDeps, row: ManagedServerRow): Promise<SessionOutcome> {
  if (Number(row.is_backup_server) === 1) {
    const facts = await logStep(ctx, 'Reading OS, kernel and free space of this machine', localHostFacts, (f) => `${f.osName}; ${f.kernel} ${f.architecture}`);
    await deps.store.db
      .updateTable('managed_servers')
      .set({ ...factsColumns(facts), status: 'Available', status_reason: null })
      .where('id', '=', row.id)
      .execute();
    return { result: 'Success', message: `Server "${row.name}" (the backup server) has been rescanned.` };
  }
  const plan: ServerPlan = {
    type: row.type as ServerPlan['type'],
    name: row.name,
    description: row.description,
    port: row.port ?? 22,
    credentialsId: row.credentials_id,
    storage: row.credentials_storage_type as ServerPlan['storage'],
    viHostType: row.vi_host_type,
    sshSettings: row.ssh_settings,
    networkSettings: row.network_settings,
  };
  if (plan.type === 'LinuxHost' && plan.credentialsId) {
    const credentials = await deps.connection.credentialsFor('LinuxHost', plan.credentialsId).catch(() => undefined);
    if (credentials)
      plan.login = {
        username: credentials.username,
        sshPort: Number(credentials.ssh_port),
        elevateToRoot: Number(credentials.elevate_to_root) === 1,
        addToSudoers: Number(credentials.add_to_sudoers) === 1,
        useSu: Number(credentials.use_su) === 1,
      };
  }
  try {
    const { linux, warnings } = await verifyHost(ctx, deps, plan, row);
    await deps.store.db
      .updateTable('managed_servers')
      .set({ status: 'Available', status_reason: null, ...(linux ? factsColumns(linux.facts) : {}), updated_at: new Date().toISOString() })
      .where('id', '=', row.id)
      .execute();
    return { result: warnings > 0 ? 'Warning' : 'Success', message: `Server "${row.name}" has been rescanned: available.` };
  } catch (err) {
    if (!ctx.signal.aborted) await markUnavailable(deps, row.id, err instanceof Error ? err.message : String(err));
    throw err;
  }
}
