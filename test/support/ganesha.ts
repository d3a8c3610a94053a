/**
 * NFS-Ganesha (user-space NFS server) as the NFS test peer: one instance per
 * test file on its own loopback address, with a read-write export and a
 * read-only one in a temp folder. rpcbind is started when absent and left
 * running (a system daemon; Ganesha must register with it to serve v3).
 *
 * Every instance uses the standard NFS port 2049 and MOUNT on 20048, each on
 * its own address. Instances share the one rpcbind and a stopping instance
 * unregisters the programs for all; Rampart's client then falls back to 2049
 * and 20048 (src/storage/nfs/mount.ts, export.ts), so parallel test files do
 * not break each other.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { acceptsConnections } from './peers.js';
import { run } from './tls.js';

export const GANESHA = '/usr/bin/ganesha.nfsd';
export const haveGanesha = existsSync(GANESHA) && existsSync('/usr/sbin/rpcbind') && process.getuid?.() === 0;

export interface Ganesha {
  address: string;
  /** The read-write export's folder on this machine, and its share path `address:/…`. */
  exportDir: string;
  sharePath: string;
  /** A read-only export. */
  readOnlyDir: string;
  readOnlySharePath: string;
  /** With `smallExportBytes`: an export on a tmpfs of that size (a full repository). */
  smallDir?: string;
  smallSharePath?: string;
  log(): Promise<string>;
  stop(): Promise<void>;
}

const connects = (host: string, port: number) => acceptsConnections(host, port, 1000);

async function ensureRpcbind(): Promise<void> {
  if (await connects('127.0.0.1', 111)) return;
  await mkdir('/run/rpcbind', { recursive: true });
  await new Promise<void>((resolve, reject) => {
    const child = spawn('/usr/sbin/rpcbind', ['-w'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`rpcbind exited ${code}`))));
  });
  for (let i = 0; i < 50 && !(await connects('127.0.0.1', 111)); i++) await new Promise((r) => setTimeout(r, 100));
}

function config(address: string, exportDir: string, readOnlyDir: string, smallDir?: string) {
  return `NFS_CORE_PARAM { Protocols = 3, 4; NFS_Port = 2049; MNT_Port = 20048; Bind_addr = ${address}; Enable_NLM = false; Enable_RQUOTA = false; Enable_UDP = false; }
NFSV4 { Graceless = true; }
EXPORT { Export_Id = 1; Path = ${exportDir}; Pseudo = /export; Access_Type = RW; Squash = No_Root_Squash; Protocols = 3, 4; Transports = TCP; SecType = sys; FSAL { Name = VFS; } }
EXPORT { Export_Id = 2; Path = ${readOnlyDir}; Pseudo = /readonly; Access_Type = RO; Squash = No_Root_Squash; Protocols = 3, 4; Transports = TCP; SecType = sys; FSAL { Name = VFS; } }
${smallDir ? `EXPORT { Export_Id = 3; Path = ${smallDir}; Pseudo = /small; Access_Type = RW; Squash = No_Root_Squash; Protocols = 3, 4; Transports = TCP; SecType = sys; FSAL { Name = VFS; } }` : ''}
`;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export async function startGanesha(options: { smallExportBytes?: number } = {}): Promise<Ganesha> {
  await ensureRpcbind();
  const dir = await mkdtemp(path.join(tmpdir(), 'rampart-ganesha-'));
  await chmod(dir, 0o755);
  const exportDir = path.join(dir, 'export');
  const readOnlyDir = path.join(dir, 'readonly');
  await mkdir(exportDir, { mode: 0o755 });
  await mkdir(readOnlyDir, { mode: 0o755 });
  let smallDir: string | undefined;
  if (options.smallExportBytes) {
    smallDir = path.join(dir, 'small');
    await mkdir(smallDir, { mode: 0o755 });
    await run('mount', ['-t', 'tmpfs', '-o', `size=${options.smallExportBytes},mode=0755`, 'tmpfs', smallDir]);
  }
  const removeAll = async () => {
    if (smallDir) await run('umount', ['-l', smallDir]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  const logFile = path.join(dir, 'ganesha.log');
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const address = `127.0.0.${2 + Math.floor(Math.random() * 250)}`;
    if ((await connects(address, 2049)) || (await connects(address, 20048))) continue; // taken by another test file's server
    await writeFile(path.join(dir, 'ganesha.conf'), config(address, exportDir, readOnlyDir, smallDir));
    const child = spawn(GANESHA, ['-F', '-L', logFile, '-f', path.join(dir, 'ganesha.conf'), '-p', path.join(dir, 'pid'), '-N', 'NIV_EVENT'], { stdio: 'ignore' });
    const log = () => readFile(logFile, 'utf8').catch(() => '');
    let up = false;
    for (let i = 0; i < 150 && child.exitCode === null; i++) {
      if ((await connects(address, 2049)) && (await connects(address, 20048))) {
        up = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (up)
      return {
        address,
        exportDir,
        sharePath: `${address}:${exportDir}`,
        readOnlyDir,
        readOnlySharePath: `${address}:${readOnlyDir}`,
        ...(smallDir ? { smallDir, smallSharePath: `${address}:${smallDir}` } : {}),
        log,
        async stop() {
          await stopChild(child);
          await removeAll();
        },
      };
    lastError = await log();
    await stopChild(child);
  }
  await removeAll();
  throw new Error(`NFS-Ganesha did not start:\n${lastError.slice(-3000)}`);
}
