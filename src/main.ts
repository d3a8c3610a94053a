import 'reflect-metadata';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startServer } from './server.js';
import { userCommand } from './cli/user-command.js';
import { certCommand } from './cli/cert-command.js';
import { rotateMasterKeyCommand } from './cli/vault-command.js';
import { exportCommand, importCommand } from './cli/automation-command.js';
import { consoleOutput } from './cli/io.js';
import { configCommand } from './cli/config-command.js';

const USAGE = `Rampart: a Veeam Backup & Replication REST API compatible server

usage: rampart <command>
  serve                       run the HTTPS server (default)
  user list|add|passwd|role   manage users (see: rampart user)
  cert show|regenerate|import the server certificate (see: rampart cert)
  rotate-master-key           re-seal every stored secret under a new master key
  export --to FILE [--kinds …] [--seal]
                              export the configuration (see: rampart export --help)
  import FILE [--dry-run] [--on-conflict skip|overwrite|fail]
                              import an exported configuration
  config restore --repository FOLDER [--point ID] [--password-stdin]
                              restore a configuration backup into an empty data folder

Configuration comes from environment variables (see README).`;

async function serve(): Promise<number> {
  const config = loadConfig();
  const logger = createLogger(config);
  const server = await startServer(config, logger);
  if (server.generatedAdminPassword) {
    // Printed once, on standard output only: it is never logged or stored in clear.
    process.stdout.write(
      `\nFirst start: created the administrator "${config.adminUser}" with the password:\n\n    ${server.generatedAdminPassword}\n\nKeep it now; it is not shown again (change it with: npm run rampart -- user passwd ${config.adminUser}).\n\n`,
    );
  }
  process.stdout.write(`Rampart is ready on ${server.url} (data in ${config.dataDir}, database ${config.databaseKind})\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      server.close().then(resolve, (err) => {
        logger.error({ err: (err as Error).message }, 'error during shutdown');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve();
    case 'rotate-master-key':
      return rotateMasterKeyCommand(rest, loadConfig(), consoleOutput);
    case 'export':
      return exportCommand(rest, loadConfig(), consoleOutput);
    case 'import':
      return importCommand(rest, loadConfig(), consoleOutput);
    case 'user':
      return userCommand(rest, loadConfig(), consoleOutput);
    case 'cert':
      return certCommand(rest, loadConfig(), consoleOutput);
    case 'config':
      return configCommand(rest, loadConfig(), consoleOutput);
    case 'help':
    case '--help':
    case '-h':
      consoleOutput.print(USAGE);
      return 0;
    default:
      consoleOutput.error(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${err.message}\n`);
      process.exit(78);
    }
    process.stderr.write(`rampart: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
