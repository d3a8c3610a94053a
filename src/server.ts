import { HelperAppliancesService } from './api/helper-appliances/service.js';
import { AzureHelperAppliances } from './azure/helper-appliance.js';
import { RecoveryTokensService } from './api/recovery-tokens/service.js';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { loadNodeId } from './node-id.js';
import { tightenDataFolder } from './data-folder.js';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { RampartConfig } from './config.js';
import { buildApp } from './app.js';
import { openStore, type Store } from './store/database.js';
import { settingOrInit } from './store/settings.js';
import { underStartupLock } from './store/startup-lock.js';
import { TlsListener } from './http/tls-listener.js';
import { ServingCertificate } from './certificates/serving-certificate.js';
import { UserDirectory } from './auth/users.js';
import { generatePassword } from './auth/passwords.js';
import { RevocationList } from './auth/revocations.js';
import { AccessTokens } from './auth/access-tokens.js';
import { LoginThrottle } from './auth/login-throttle.js';
import { LoginService } from './auth/login.js';
import { loadTokenSigningKey } from './auth/signing-key.js';
import { SessionRunner } from './sessions/runner.js';
import { SessionsService } from './api/sessions/service.js';
import { createVaultSections, type VaultSections } from './api/vault/sections.js';
import { CertificateRotation } from './certificates/rotation.js';
import { startExpiryWarnings } from './certificates/expiry-warning.js';
import { CertificateSettingsService } from './api/settings-certificates/service.js';
import { ConnectionService } from './api/connection/service.js';
import { ManagedServersService } from './api/managed-servers/service.js';
import { createAutomation } from './api/automation/sections/index.js';
import { ProxiesService } from './api/proxies/service.js';
import { InventoryService } from './api/inventory/service.js';
import { createRepositorySections, type RepositorySections } from './api/repositories/sections.js';
import { ManagedServerHosts } from './api/repositories/managed-server-hosts.js';
import { BackupsService } from './api/backups/service.js';
import { JobsService } from './api/jobs/service.js';
import { JobScheduler } from './api/jobs/scheduler.js';
import { VsphereAccess } from './api/jobs/vsphere-access.js';
import { backupRunner, openRepositoryById } from './api/jobs/run.js';
import { BackupDeletion } from './api/backups/deletion.js';
import { BackupFiles } from './api/backups/backup-files.js';
import { BackupHealthCheck } from './api/backups/health-check.js';
import { runHealthCheck } from './api/jobs/health-check.js';
import { backupReimport } from './api/jobs/reimport.js';
import { RestoreService } from './api/restore/service.js';
import { InstantRecoveryService } from './api/restore/instant-recovery.js';
import { jobsSection } from './api/automation/sections/jobs.js';
import { GeneralOptionsService } from './api/general-options/service.js';
import { TrafficRulesService } from './api/traffic-rules/service.js';
import { Notifications } from './api/general-options/notifications.js';
import { CloudBrowserService } from './api/cloud-browser/service.js';
import { ConfigBackupService } from './api/config-backup/service.js';

/** How often every node looks for due jobs and lapsed run leases. */
const JOB_SCHEDULER_TICK_MS = 5000;

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  runner: SessionRunner;
  certificate: ServingCertificate;
  users: UserDirectory;
  url: string;
  port: number;
  /** Set only when this start created the first administrator with a generated password. */
  generatedAdminPassword?: string;
  /** Master keyring, sealed-secret store, reference registry and the secret-holding sections. */
  vault: VaultSections;
  /** Repositories, scale-out repositories and the states refresher. */
  repositories: RepositorySections;
  /** The VMware inventory (jobs check their includes and reach vCenters through it). */
  inventory: InventoryService;
  /** Backup jobs and their scheduler (tests drive its ticks), and the backup catalogue. */
  jobs: JobsService;
  scheduler: JobScheduler;
  backups: BackupsService;
  /** Configuration backup (tests drive its schedule's ticks). */
  configBackup: ConfigBackupService;
  /** General options (email settings) and the notifications sent with them. */
  generalOptions: GeneralOptionsService;
  notifications: Notifications;
  close(): Promise<void>;
}

async function ensureFirstAdministrator(users: UserDirectory, config: RampartConfig): Promise<string | undefined> {
  if ((await users.count()) > 0) return undefined;
  const password = config.adminPassword ?? generatePassword(randomBytes);
  await users.add(config.adminUser, 'Administrator', password);
  return config.adminPassword ? undefined : password;
}

/** Opens everything the server needs, in dependency order, and starts listening. */
export async function startServer(config: RampartConfig, logger: Logger): Promise<RunningServer> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  await tightenDataFolder(config.dataDir, logger);
  const store = await openStore(config.databaseUrl, { backgroundCheckpoints: true });
  try {
    const nodeId = await loadNodeId(config.dataDir);
    const users = new UserDirectory(store);
    // Under the startup lock: of two nodes starting on an empty database, one creates the administrator, the other finds it.
    const { installationId, generatedAdminPassword } = await underStartupLock(store, async () => ({
      installationId: await settingOrInit(store.db, 'installation_id', randomUUID()),
      generatedAdminPassword: await ensureFirstAdministrator(users, config),
    }));

    const revocations = new RevocationList(store);
    await revocations.start(config.revocationPollMs);
    const accessTokens = new AccessTokens(await loadTokenSigningKey(config.dataDir, process.env.RAMPART_TOKEN_SIGNING_KEY), revocations, config.accessTokenTtlSeconds);
    const throttle = new LoginThrottle(store, {
      slowdownAfter: config.loginSlowdownAfter,
      lockoutAfter: config.loginLockoutAfter,
      lockoutSeconds: config.loginLockoutSeconds,
    });
    const login = new LoginService(store, users, accessTokens, revocations, throttle, config);

    const runner = new SessionRunner(store, nodeId, logger);
    const interrupted = await runner.markInterrupted();
    if (interrupted > 0) logger.warn({ count: interrupted }, 'marked sessions left running by the previous process as Failed');
    runner.startStopPolling();
    const vault = await createVaultSections(config, store, runner, logger);
    const connection = new ConnectionService(vault.credentials, config.probeTimeoutMs);
    const managedServers = new ManagedServersService(store, runner, connection, vault.secrets, vault.references);
    await managedServers.ensureBackupServer();
    const proxies = new ProxiesService(store, runner, managedServers, vault.references);
    const inventory = new InventoryService(store, connection);
    const repositories = createRepositorySections(config, store, runner, vault, new ManagedServerHosts(managedServers, connection.probeTimeoutMs), logger);
    const automation = createAutomation(runner, vault, { managedServers, proxies, repositories: repositories.repositories });
    repositories.refresher.start();
    const backups = new BackupsService(store);
    // Runs wait longer per call than the inventory's probe timeout: a snapshot of a large disk may take its time to be accepted.
    const vsphere = new VsphereAccess((hostName, signal) => inventory.session(hostName, { signal, timeoutMs: Math.max(120_000, config.probeTimeoutMs) }));
    const trafficRules = new TrafficRulesService({ store });
    const jobs = new JobsService({
      store,
      runner,
      nodeId,
      references: vault.references,
      repositories: repositories.repositories,
      scaleOut: repositories.scaleOut,
      proxies,
      encryptionPasswords: vault.encryptionPasswords,
      credentials: vault.credentials,
      managedServers,
      inventory: async (_hostName, object) => (await inventory.findObject(object)) !== undefined,
      run: backupRunner({
        vsphere,
        repositories: repositories.repositories,
        encryptionPasswords: vault.encryptionPasswords,
        backups,
        trafficRules,
        gcGraceMs: config.gcGraceSeconds * 1000,
      }),
      removeLeftSnapshots: (list) => vsphere.removeSnapshots(list as { hostName: string; snapshot: string }[]),
    });
    // Runs this node left behind when it stopped: Failed (the runner marked the sessions), snapshots removed.
    await jobs.failLapsedRuns(true);
    repositories.rescan.reimport = backupReimport({ repositories: repositories.repositories, backups, encryptionPasswords: vault.encryptionPasswords });
    const scheduler = new JobScheduler(store, jobs, logger);
    scheduler.start(JOB_SCHEDULER_TICK_MS);
    const configBackup = new ConfigBackupService({
      store,
      runner,
      repositories: repositories.repositories,
      encryptionPasswords: vault.encryptionPasswords,
      dataDir: config.dataDir,
      gcGraceMs: config.gcGraceSeconds * 1000,
    });
    configBackup.startSchedule(JOB_SCHEDULER_TICK_MS, (err) => logger.warn({ err: err.message }, 'configuration backup schedule tick failed'));
    automation.register(jobsSection(jobs, { repositories: repositories.repositories, proxies }));

    const restore = new RestoreService({
      runner,
      backups,
      repositories: repositories.repositories,
      vsphere,
      openRepository: (repositoryId) => openRepositoryById({ repositories: repositories.repositories }, repositoryId, false),
      encryptionPasswords: () => vault.encryptionPasswords.allPasswords(),
    });
    // Instant recovery works under <data>/ir (NBD socket, FUSE mounts, staging folders, redo files); what a previous run left there is cleaned now.
    const instantRecovery = new InstantRecoveryService({ store, runner, vsphere, restore, workFolder: join(config.dataDir, 'ir'), nfs: config.instantRecoveryNfs });
    await instantRecovery.recover();

    const certificate = await ServingCertificate.loadOrCreate(config.dataDir, logger);
    const listener = new TlsListener(certificate.current.pair, {
      handshakeTimeoutMs: config.tlsHandshakeTimeoutSeconds * 1000,
      headersTimeoutMs: config.headersTimeoutSeconds * 1000,
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
      maxConnections: config.maxConnections,
      maxConnectionsPerAddress: config.maxConnectionsPerAddress,
    });
    listener.onRefused = (reason) => logger.warn({ reason }, 'refused connections: too many open (this warning repeats at most once a minute)');
    certificate.attach(listener);
    certificate.watchPairFile();
    const stopExpiryWarnings = startExpiryWarnings(certificate, config.certificateExpiryWarningDays, logger);
    const generalOptions = new GeneralOptionsService({ store, credentials: vault.credentials, references: vault.references, logger, smtpCaFile: config.smtpCaFile });
    const notifications = new Notifications(generalOptions, store, logger);
    runner.onSessionEnd((end) => notifications.sessionEnded(end));
    repositories.refresher.onMeasured((outcome) => notifications.repositoryMeasured(outcome));
    const stopCertificateNotices = notifications.watchCertificate(() => certificate.current.description, config.certificateExpiryWarningDays);
    const certificateSettings = new CertificateSettingsService(certificate, new CertificateRotation(certificate, runner), {
      expiryWarningDays: config.certificateExpiryWarningDays,
      rotationGraceMs: config.certificateRotationGraceHours * 3_600_000,
    });

    // Whatever this start created (database side files included) is held to the same modes.
    await tightenDataFolder(config.dataDir, logger);

    let port = config.port;
    const app = await buildApp({
      logger,
      listener,
      bodyLimitBytes: config.bodyLimitBytes,
      importBodyLimitBytes: config.importBodyLimitBytes,
      automation,
      store,
      accessTokens,
      login,
      certificate,
      sessions: new SessionsService(store, runner),
      vault,
      repositories,
      certificateSettings,
      connection,
      managedServers,
      proxies,
      jobs,
      backups,
      backupDeletion: new BackupDeletion({
        backups,
        runner,
        openRepository: (repositoryId) => openRepositoryById({ repositories: repositories.repositories }, repositoryId, false),
        gcGraceMs: config.gcGraceSeconds * 1000,
      }),
      backupFiles: new BackupFiles({
        backups,
        openRepository: (repositoryId) => openRepositoryById({ repositories: repositories.repositories }, repositoryId, false),
      }),
      backupHealthCheck: new BackupHealthCheck({
        backups,
        runner,
        openRepository: (repositoryId) => openRepositoryById({ repositories: repositories.repositories }, repositoryId, false),
        encryptionPasswords: () => vault.encryptionPasswords.allPasswords(),
        check: runHealthCheck,
      }),
      restore,
      instantRecovery,
      inventory,
      generalOptions,
      notifications,
      cloudBrowser: new CloudBrowserService({
        store,
        cloudCredentials: vault.cloudCredentials,
        timeoutMs: config.repositoryTimeoutMs,
        endpoints: { wasabi: config.wasabiEndpoint, google: config.googleStorageEndpoint },
      }),
      configBackup,
      recoveryTokens: new RecoveryTokensService({ store, backups, instantRecovery }),
      helperAppliances: new HelperAppliancesService({
        store,
        runner,
        cloudCredentials: vault.cloudCredentials,
        secrets: vault.secrets,
        references: vault.references,
        azure: new AzureHelperAppliances({ authorityUrl: config.azureAuthorityUrl, managementUrl: config.azureManagementUrl }),
      }),
      trafficRules,
      installationId,
      expiryWarningDays: config.certificateExpiryWarningDays,
      services: () => [{ name: 'Rampart REST API', port }],
    });
    const listen = (host: string) =>
      app.listen({
        port: config.port,
        host,
        // Fastify cannot tell the listener is HTTPS (it comes from serverFactory).
        listenTextResolver: (address) => `Server listening at ${address.replace(/^http:/, 'https:')}`,
      });
    try {
      await listen(config.host);
    } catch (err) {
      // "All interfaces" on a machine without IPv6: fall back to every IPv4 interface.
      if (config.host !== '::' || !['EAFNOSUPPORT', 'EADDRNOTAVAIL'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
      await listen('0.0.0.0');
    }
    port = (listener.server.address() as AddressInfo).port;
    const shownHost = config.host === '::' || config.host === '0.0.0.0' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        const graceMs = config.shutdownGraceSeconds * 1000;
        await repositories.refresher.stop();
        await scheduler.stop();
        await configBackup.stopSchedule();
        await runner.stopAll('The server is shutting down.', Math.min(graceMs, 5000));
        await instantRecovery.close();
        // app.close() stops accepting and waits for in-flight requests; the grace period bounds it.
        const timer = setTimeout(() => listener.server.closeAllConnections(), graceMs);
        await app.close();
        clearTimeout(timer);
        revocations.stop();
        stopExpiryWarnings();
        stopCertificateNotices();
        await notifications.settled();
        certificate.close();
        await store.close();
      })());

    return {
      app,
      store,
      runner,
      certificate,
      users,
      vault,
      repositories,
      inventory,
      jobs,
      scheduler,
      configBackup,
      backups,
      generalOptions,
      notifications,
      url: `https://${shownHost}:${port}`,
      port,
      generatedAdminPassword,
      close,
    };
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}
