/**
 * Installing Rampart's transport service on a hardened Linux repository host
 * with single-use credentials (Veeam's model, docs/immutability.md): the login
 * is used for this one SSH session and then forgotten; from then on Rampart
 * reaches the host only through the service, with a TLS client certificate
 * the service pins, and the service's own certificate pinned on Rampart's side.
 */
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { generateSelfSignedCertificate } from '../pki/generate.js';
import { openSshSession, type SshLogin, type SshSession } from '../probe/ssh-session.js';
import { hardenedBackend, type HardenedServiceAccess } from '../chunkstore/hardened-backend.js';

export interface HardenedInstallRequest {
  host: string;
  sshPort: number;
  /** The host key, pinned before the single-use credentials are sent. */
  hostKeyFingerprint: string;
  /** Single-use: used for this install only, never stored. root, or an account with passwordless sudo. */
  login: SshLogin;
  /** The managed server's port for the service (Veeam's portRangeStart / managementPort). */
  servicePort: number;
  /** The repository folder on the host. */
  folder: string;
  /** Where the service file, its config and its log go on the host. */
  installDir?: string;
}

export interface HardenedInstallResult extends HardenedServiceAccess {
  /** How the service is kept running: a systemd unit, or a supervising shell loop (its pid, for the record). */
  supervision: { kind: 'systemd'; unit: string } | { kind: 'supervisor'; pid: number };
}

export const SERVICE_UNIT = 'rampart-transport.service';
const MIN_NODE_MAJOR = 18;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function asRoot(session: Pick<SshSession, 'run'>): Promise<string> {
  const id = await session.run('id -u');
  if (id.stdout.trim() === '0') return '';
  const sudo = await session.run('sudo -n id -u');
  if (sudo.code === 0 && sudo.stdout.trim() === '0') return 'sudo -n ';
  throw new Error('The single-use account is neither root nor allowed passwordless sudo; the transport service must run as root to set the immutable attribute.');
}

/** Beside this module in the sources; dist/transport-service.mjs in a build (scripts/build.mjs copies it; bundles may sit in dist/chunks/). */
async function readServiceSource(): Promise<string> {
  const candidates = ['./transport-service.mjs', '../transport-service.mjs'];
  for (const candidate of candidates) {
    try {
      return await readFile(new URL(candidate, import.meta.url), 'utf8');
    } catch {
      // next
    }
  }
  throw new Error('transport-service.mjs is missing from this Rampart installation (src/hardened/ or dist/).');
}

export async function installHardenedService(request: HardenedInstallRequest): Promise<HardenedInstallResult> {
  const session = await openSshSession(request.host, request.sshPort, request.login, request.hostKeyFingerprint, { timeoutMs: 10_000 });
  try {
    return await installOverSession(session, request);
  } finally {
    // Single-use: the session ends here and nothing of the login is kept.
    session.close();
  }
}

/** Installs the service over an SSH session someone else opened (and closes): the repositories section logs in once with the single-use credentials and checks the folder on the same login. */
export async function installOverSession(
  session: Pick<SshSession, 'run'>,
  request: Omit<HardenedInstallRequest, 'sshPort' | 'hostKeyFingerprint' | 'login'>,
): Promise<HardenedInstallResult> {
  const installDir = request.installDir ?? '/opt/rampart-transport';
  const validBy = new Date(Date.now() + 10 * 365 * 86_400_000);
  const [server, client] = await Promise.all([
    generateSelfSignedCertificate({ commonName: 'rampart-transport', dnsNames: ['rampart-transport'], ipAddresses: [], validBy }),
    generateSelfSignedCertificate({ commonName: 'rampart', dnsNames: ['rampart'], ipAddresses: [], validBy }),
  ]);
  const serviceSource = await readServiceSource();
  const config = {
    port: request.servicePort,
    root: request.folder,
    serverCertPem: server.certificatePem,
    serverKeyPem: server.privateKeyPem,
    clientFingerprint256: new X509Certificate(client.certificatePem).fingerprint256,
  };
  const dir = quote(installDir);
  const serviceFile = `${installDir}/rampart-transport.mjs`;
  const configFile = `${installDir}/config.json`;
  const root = await asRoot(session);
  const node = await session.run('command -v node && node -p "process.versions.node" && command -v chattr && command -v setsid');
  const major = Number(node.stdout.split('\n')[1]?.split('.')[0]);
  if (node.code !== 0 || !(major >= MIN_NODE_MAJOR))
    throw new Error(
      `The host needs Node.js ${MIN_NODE_MAJOR} or later, chattr (e2fsprogs) and setsid (util-linux) for the transport service; found: ${node.stdout.trim() || 'none'}.`,
    );
  // The script (with the service's private key) goes through stdin, never the command line.
  const script = [
    'set -e',
    'umask 077',
    `mkdir -p ${dir} ${quote(request.folder)}`,
    `cat > ${quote(serviceFile)} <<'RAMPART_EOF'`,
    serviceSource.replace(/\n$/, ''),
    'RAMPART_EOF',
    `cat > ${quote(configFile)} <<'RAMPART_EOF'`,
    JSON.stringify(config),
    'RAMPART_EOF',
    'if [ -d /run/systemd/system ]; then',
    `  cat > /etc/systemd/system/${SERVICE_UNIT} <<RAMPART_EOF`,
    '[Unit]\nDescription=Rampart transport service (hardened repository)\nAfter=network-online.target\n[Service]',
    `ExecStart=$(command -v node) ${serviceFile} ${configFile}\nRestart=always\nRestartSec=2\n[Install]\nWantedBy=multi-user.target`,
    'RAMPART_EOF',
    `  systemctl daemon-reload && systemctl enable --now ${SERVICE_UNIT} >/dev/null && echo systemd`,
    'else',
    // No systemd (containers, the tests): a shell loop restarts the service, in its own session so it outlives this login.
    `  setsid nohup sh -c ${quote(`while :; do node ${quote(serviceFile)} ${quote(configFile)}; sleep 1; done`)} >> ${quote(`${installDir}/service.log`)} 2>&1 < /dev/null &`,
    `  echo $! > ${quote(`${installDir}/supervisor.pid`)}; echo "supervisor $!"`,
    'fi',
    '',
  ].join('\n');
  const out = await session.run(`${root}sh -s`, { input: script });
  if (out.code !== 0) throw new Error(`Installing the transport service failed: ${out.stderr.trim().split('\n')[0] ?? `exit ${out.code}`}`);
  const pid = /supervisor (\d+)/.exec(out.stdout)?.[1];
  const supervision: HardenedInstallResult['supervision'] = pid ? { kind: 'supervisor', pid: Number(pid) } : { kind: 'systemd', unit: SERVICE_UNIT };
  const access: HardenedServiceAccess = {
    host: request.host,
    port: request.servicePort,
    serverCertificatePem: server.certificatePem,
    clientCertificatePem: client.certificatePem,
    clientPrivateKeyPem: client.privateKeyPem,
  };
  // The service answers once Node has started; proof that the pinned pair works both ways.
  const probe = hardenedBackend(access, { immutableDays: 1, timeoutMs: 5000 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await probe.capacity();
        break;
      } catch (err) {
        if (attempt >= 50) throw new Error(`The transport service on ${request.host}:${request.servicePort} did not answer after install: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await probe.close();
  }
  return { ...access, supervision };
}

/**
 * Undoes an install on the same SSH session (the single-use login is still open):
 * the service stopped (its systemd unit disabled and removed, or its supervising
 * loop's process group ended) and its folder removed. The repository folder is
 * left as it is: it may hold data that is not ours to remove.
 */
export async function uninstallOverSession(session: Pick<SshSession, 'run'>, installed: { installDir: string; supervision: HardenedInstallResult['supervision'] }): Promise<void> {
  const root = await asRoot(session);
  const stop =
    installed.supervision.kind === 'systemd'
      ? [`systemctl disable --now ${SERVICE_UNIT} >/dev/null 2>&1 || true`, `rm -f /etc/systemd/system/${SERVICE_UNIT}`, 'systemctl daemon-reload >/dev/null 2>&1 || true']
      : // setsid made the loop a session and process group leader: ending the group ends the loop and the service it runs
        // (`kill -TERM -<pid>`: dash's kill takes no `--`).
        [`kill -TERM -${installed.supervision.pid} 2>/dev/null || kill -TERM ${installed.supervision.pid} 2>/dev/null || true`];
  const script = ['set -e', ...stop, `rm -rf -- ${quote(installed.installDir)}`, ''].join('\n');
  const out = await session.run(`${root}sh -s`, { input: script });
  if (out.code !== 0) throw new Error(`Removing the transport service failed: ${out.stderr.trim().split('\n')[0] ?? `exit ${out.code}`}`);
}
