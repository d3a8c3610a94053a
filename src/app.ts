import Fastify, { LogController, type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from 'pino';
import './http/route-config.js';
import { installErrorHandling } from './http/error-handling.js';
import { installCompression } from './http/compression.js';
import { installRequestConventions } from './http/request-conventions.js';
import { installInputRules } from './http/input-rules.js';
import { clientErrorReply, frameworkErrorReply } from './http/client-errors.js';
import { installUnreadBodyClose } from './http/unread-body.js';
import { installRequestLog } from './http/request-log.js';
import { installConsole } from './http/console.js';
import { installReplyShapes } from './revisions/reply-hook.js';
import { openApiPath, serveRevisionDocuments } from './revisions/openapi.js';
import { lazyRequestLogger } from './http/lazy-request-logger.js';
import type { TlsListener } from './http/tls-listener.js';
import { ErrorSchema } from './http/schemas.js';
import { PRODUCT_VERSION } from './version.js';
import type { AccessTokens } from './auth/access-tokens.js';
import type { LoginService } from './auth/login.js';
import type { Store } from './store/database.js';
import type { ServingCertificate } from './certificates/serving-certificate.js';
import type { SessionsService } from './api/sessions/service.js';
import type { CertificateSettingsService } from './api/settings-certificates/service.js';
import { oauth2Routes } from './api/oauth2/routes.js';
import { awsTokenRoutes } from './api/aws-token/routes.js';
import { serviceRoutes } from './api/service/routes.js';
import { servicesRoutes } from './api/services/routes.js';
import { sessionsRoutes } from './api/sessions/routes.js';
import type { VaultSections } from './api/vault/sections.js';
import { credentialsRoutes } from './api/credentials/routes.js';
import { cloudCredentialsRoutes } from './api/cloud-credentials/routes.js';
import { encryptionPasswordsRoutes } from './api/encryption-passwords/routes.js';
import { vaultRoutes } from './api/vault/routes.js';
import { settingsCertificatesRoutes } from './api/settings-certificates/routes.js';
import type { ConnectionService } from './api/connection/service.js';
import type { ManagedServersService } from './api/managed-servers/service.js';
import { connectionRoutes } from './api/connection/routes.js';
import { managedServersRoutes } from './api/managed-servers/routes.js';
import type { ProxiesService } from './api/proxies/service.js';
import { proxiesRoutes } from './api/proxies/routes.js';
import { inventoryRoutes } from './api/inventory/routes.js';
import type { InventoryService } from './api/inventory/service.js';
import type { AutomationService } from './api/automation/service.js';
import { automationRoutes } from './api/automation/routes.js';
import type { RepositorySections } from './api/repositories/sections.js';
import { repositoriesRoutes } from './api/repositories/routes.js';
import { scaleOutRepositoriesRoutes } from './api/scale-out-repositories/routes.js';
import type { JobsService } from './api/jobs/service.js';
import { jobsRoutes } from './api/jobs/routes.js';
import type { BackupsService } from './api/backups/service.js';
import { backupsRoutes } from './api/backups/routes.js';
import type { BackupDeletion } from './api/backups/deletion.js';
import type { BackupFiles } from './api/backups/backup-files.js';
import type { BackupHealthCheck } from './api/backups/health-check.js';
import type { RestoreService } from './api/restore/service.js';
import type { InstantRecoveryService } from './api/restore/instant-recovery.js';
import { restoreRoutes } from './api/restore/routes.js';
import type { GeneralOptionsService } from './api/general-options/service.js';
import type { Notifications } from './api/general-options/notifications.js';
import { generalOptionsRoutes } from './api/general-options/routes.js';
import type { CloudBrowserService } from './api/cloud-browser/service.js';
import { cloudBrowserRoutes } from './api/cloud-browser/routes.js';
import type { ConfigBackupService } from './api/config-backup/service.js';
import { configBackupRoutes } from './api/config-backup/routes.js';
import type { RecoveryTokensService } from './api/recovery-tokens/service.js';
import { recoveryTokensRoutes } from './api/recovery-tokens/routes.js';
import type { HelperAppliancesService } from './api/helper-appliances/service.js';
import { helperAppliancesRoutes } from './api/helper-appliances/routes.js';
import type { TrafficRulesService } from './api/traffic-rules/service.js';
import { trafficRulesRoutes } from './api/traffic-rules/routes.js';

export interface AppDeps {
  logger: Logger;
  listener: TlsListener;
  bodyLimitBytes: number;
  importBodyLimitBytes: number;
  automation: AutomationService;
  store: Store;
  accessTokens: AccessTokens;
  login: LoginService;
  certificate: ServingCertificate;
  sessions: SessionsService;
  vault: VaultSections;
  repositories: RepositorySections;
  certificateSettings: CertificateSettingsService;
  connection: ConnectionService;
  managedServers: ManagedServersService;
  proxies: ProxiesService;
  jobs: JobsService;
  backups: BackupsService;
  /** DELETE /api/v1/backups/{id}: refused while a restore point is immutable. */
  backupDeletion?: BackupDeletion;
  backupFiles?: BackupFiles;
  backupHealthCheck?: BackupHealthCheck;
  restore: RestoreService;
  instantRecovery: InstantRecoveryService;
  inventory: InventoryService;
  generalOptions: GeneralOptionsService;
  notifications: Notifications;
  cloudBrowser: CloudBrowserService;
  configBackup: ConfigBackupService;
  recoveryTokens: RecoveryTokensService;
  helperAppliances: HelperAppliancesService;
  trafficRules: TrafficRulesService;
  installationId: string;
  expiryWarningDays: number;
  services: () => { name: string; port: number }[];
}

/** The first revision's document; every accepted revision has its own (revisions/openapi.ts). */
export const OPENAPI_PATH = openApiPath('1.1-rev0');

/** Builds the Fastify app: core plumbing first, then every API section. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    // Fastify's own per-request lines are off: http/request-log.ts writes one line of ours instead.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyRequestLogger,
    bodyLimit: deps.bodyLimitBytes,
    serverFactory: (handler) => {
      deps.listener.server.on('request', handler);
      return deps.listener.server;
    },
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    // Bounded so a stuck client cannot hold shutdown forever; the grace period is enforced in server.ts.
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    return503OnClosing: true,
    // Fastify's and Node's own refusals leave in the error model too.
    frameworkErrors: frameworkErrorReply,
    clientErrorHandler: clientErrorReply,
  }) as unknown as FastifyInstance;

  // A POST without a body but labelled application/json (logout, stop) is an empty object, not an error.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (typeof body === 'string' && body.trim() === '') return done(null, undefined);
    jsonParser(request, body as string, done);
  });
  await app.register(formbody);
  await installCompression(app);
  app.addSchema(ErrorSchema);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Rampart: Veeam Backup & Replication REST API v1 compatible server',
        version: '1.1-rev0',
        description: `Rampart ${PRODUCT_VERSION}. Send x-api-version (e.g. 1.1-rev0) on every /api request; Backup for AWS routes take 1.0-rev0.`,
      },
      components: {
        securitySchemes: { Bearer: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Bearer <access_token>' } },
      },
      security: [{ Bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/swagger/ui' });
  serveRevisionDocuments(app);
  app.get('/swagger/ui/index.html', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/swagger/ui/'));

  installErrorHandling(app);
  installInputRules(app);
  installUnreadBodyClose(app);
  installRequestConventions(app, deps.accessTokens);
  installRequestLog(app);
  installReplyShapes(app);

  oauth2Routes(app, { login: deps.login });
  awsTokenRoutes(app, { login: deps.login });
  serviceRoutes(app, { store: deps.store, certificate: deps.certificate, installationId: deps.installationId, expiryWarningDays: deps.expiryWarningDays });
  servicesRoutes(app, { services: deps.services });
  sessionsRoutes(app, { sessions: deps.sessions });
  credentialsRoutes(app, { credentials: deps.vault.credentials });
  cloudCredentialsRoutes(app, { cloudCredentials: deps.vault.cloudCredentials });
  encryptionPasswordsRoutes(app, { encryptionPasswords: deps.vault.encryptionPasswords });
  vaultRoutes(app, { vault: deps.vault.vault });
  connectionRoutes(app, { connection: deps.connection });
  managedServersRoutes(app, { managedServers: deps.managedServers });
  proxiesRoutes(app, { proxies: deps.proxies });
  inventoryRoutes(app, { inventory: deps.inventory });
  automationRoutes(app, { automation: deps.automation, sessions: deps.sessions, importBodyLimitBytes: deps.importBodyLimitBytes });
  repositoriesRoutes(app, { repositories: deps.repositories.repositories, rescan: deps.repositories.rescan });
  scaleOutRepositoriesRoutes(app, { scaleOut: deps.repositories.scaleOut });
  jobsRoutes(app, { jobs: deps.jobs, repositories: deps.repositories.repositories });
  backupsRoutes(app, {
    backups: deps.backups,
    ...(deps.backupDeletion ? { deletion: deps.backupDeletion } : {}),
    ...(deps.backupFiles ? { files: deps.backupFiles } : {}),
    ...(deps.backupHealthCheck ? { healthCheck: deps.backupHealthCheck } : {}),
    repositoryNames: async (ids) => new Map((await deps.repositories.repositories.getMany(ids)).map((r) => [r.id, r.name])),
  });
  restoreRoutes(app, { restore: deps.restore, instantRecovery: deps.instantRecovery });
  generalOptionsRoutes(app, { generalOptions: deps.generalOptions, notifications: deps.notifications });
  cloudBrowserRoutes(app, { cloudBrowser: deps.cloudBrowser });
  configBackupRoutes(app, { configBackup: deps.configBackup });
  recoveryTokensRoutes(app, { recoveryTokens: deps.recoveryTokens });
  helperAppliancesRoutes(app, { helperAppliances: deps.helperAppliances });
  trafficRulesRoutes(app, { trafficRules: deps.trafficRules });
  await settingsCertificatesRoutes(app, { certificates: deps.certificateSettings });
  await installConsole(app);

  return app;
}
