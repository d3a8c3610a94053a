import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { acceptsConnections } from './peers.js';
import { run } from './tls.js';

export const SMBD = '/usr/sbin/smbd';
/** smbd binds port 445 on its own loopback address: only root may. */
export const haveSmbd = existsSync(SMBD) && process.getuid?.() === 0;

/**
 * Samba maps every SMB user to a Unix account: a throwaway system account the
 * fixture creates when absent (no home, no shell, no Unix password).
 */
export const SMB_USER = 'rampart-smb-test';
export const SMB_PASSWORD = 'Smb-Test-Passw0rd!';
export const SMB_SHARE = 'backups';

export interface Smbd {
  /** The loopback address smbd alone listens on (port 445). */
  address: string;
  /** The share's folder on this machine (files written over SMB land here). */
  shareDir: string;
  /** `\\address\backups`, plus `\folder` for a repository inside it. */
  uncPath(folder?: string): string;
  output(): Promise<string>;
  /** Ends the smbd processes serving clients (a dropped connection), leaving the server up. */
  kickClients(): Promise<void>;
  stop(): Promise<void>;
}

async function ensureUnixUser(name: string): Promise<void> {
  const exists = () =>
    run('id', ['-u', name]).then(
      () => true,
      () => false,
    );
  if (await exists()) return;
  // Several test files may race here: a lost race ("already exists") is fine.
  await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]).catch(async (err) => {
    if (!(await exists())) throw err;
  });
}

const releaseAddress = (address: string) =>
  run('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo']).then(
    () => undefined,
    () => undefined,
  );

const childrenOf = async (pid: number) =>
  (await run('ps', ['-o', 'pid=', '--ppid', String(pid)]).catch(() => ({ stdout: '' }))).stdout
    .split('\n')
    .map((x) => Number(x.trim()))
    .filter((x) => x > 0);

const portAnswers = (host: string, port: number) => acceptsConnections(host, port);

/**
 * A real Samba smbd with its own config, state and tdbsam passdb in a temp
 * folder, bound to a loopback address of its own (127.0.0.20..250) so several
 * test files can each run one at once. One share `backups`, writable by SMB_USER
 * and by each of `users` (Unix accounts of those names are created when absent;
 * Samba's standalone role ignores the domain a client names, so `CORP\\name` logs in as `name`).
 * `global`: extra [global] lines (e.g. `server signing = mandatory`).
 */
export async function startSmbd(options: { users?: { name: string; password: string }[]; global?: string[] } = {}): Promise<Smbd> {
  const users = [{ name: SMB_USER, password: SMB_PASSWORD }, ...(options.users ?? [])];
  for (const user of users) await ensureUnixUser(user.name);
  const dir = await mkdtemp(path.join(tmpdir(), 'rampart-smbd-'));
  await chmod(dir, 0o755);
  const shareDir = path.join(dir, 'share');
  for (const sub of ['run', 'lock', 'state', 'cache', 'private', 'ncalrpc']) await mkdir(path.join(dir, sub), { recursive: true });
  await mkdir(shareDir);
  await run('chown', [`${SMB_USER}:`, shareDir]);
  for (let attempt = 0; ; attempt++) {
    const address = `127.0.0.${20 + Math.floor(Math.random() * 231)}`;
    // Samba binds only addresses an interface has (127.0.0.1/8 on lo is not enough):
    // the address is added to lo for this smbd. Adding fails when another test file
    // holds it, which makes the add a lock as well.
    const claimed = await run('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo']).then(
      () => true,
      () => false,
    );
    if (!claimed || (await portAnswers(address, 445))) {
      if (claimed) await releaseAddress(address);
      if (attempt > 20) throw new Error('no free loopback address for smbd');
      continue;
    }
    const conf = path.join(dir, 'smb.conf');
    await writeFile(
      conf,
      [
        '[global]',
        '  netbios name = RAMPARTTEST',
        '  workgroup = RAMPART',
        '  server role = standalone server',
        `  interfaces = ${address}`,
        '  bind interfaces only = yes',
        '  smb ports = 445',
        '  disable netbios = yes',
        `  pid directory = ${dir}/run`,
        `  lock directory = ${dir}/lock`,
        `  state directory = ${dir}/state`,
        `  cache directory = ${dir}/cache`,
        `  private dir = ${dir}/private`,
        `  ncalrpc dir = ${dir}/ncalrpc`,
        `  passdb backend = tdbsam:${dir}/private/passdb.tdb`,
        `  log file = ${dir}/smbd.log`,
        '  log level = 1',
        '  load printers = no',
        '  printcap name = /dev/null',
        '  disable spoolss = yes',
        '  map to guest = never',
        ...(options.global ?? []).map((line) => `  ${line}`),
        '',
        `[${SMB_SHARE}]`,
        `  path = ${shareDir}`,
        '  read only = no',
        `  valid users = ${users.map((u) => u.name).join(' ')}`,
        // Every login writes as SMB_USER, the share folder's owner.
        `  force user = ${SMB_USER}`,
        '',
      ].join('\n'),
    );
    for (const user of users)
      await new Promise<void>((resolve, reject) => {
        const child = spawn('smbpasswd', ['-c', conf, '-a', '-s', user.name], { stdio: ['pipe', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (c) => (err += c));
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`smbpasswd exited ${code}: ${err}`))));
        child.stdin.end(`${user.password}\n${user.password}\n`);
      });
    // Its own process group: stop() ends smbd and the children it forks per connection.
    const child = spawn(SMBD, ['--foreground', '--no-process-group', '-s', conf], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout!.on('data', (c) => (out += c));
    child.stderr!.on('data', (c) => (out += c));
    const output = async () => out + (await import('node:fs/promises').then((fs) => fs.readFile(path.join(dir, 'smbd.log'), 'utf8')).catch(() => ''));
    let up = false;
    for (let i = 0; i < 200 && child.exitCode === null; i++) {
      if ((up = await portAnswers(address, 445))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!up) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* it had exited */
      }
      // Another test file took the same address between our look and smbd's bind: pick again.
      await releaseAddress(address);
      if (attempt < 5 && /Address already in use/i.test(await output())) continue;
      const text = await output();
      await rm(dir, { recursive: true, force: true });
      throw new Error(`smbd did not listen on ${address}:445:\n${text}`);
    }
    // smbd's own helpers (notifyd, cleanupd) are there before the first client; later children serve clients.
    const helpers = new Set(await childrenOf(child.pid!));
    return {
      address,
      shareDir,
      kickClients: async () => {
        for (const pid of await childrenOf(child.pid!)) if (!helpers.has(pid)) process.kill(pid, 'SIGKILL');
      },
      uncPath: (folder) => `\\\\${address}\\${SMB_SHARE}${folder ? `\\${folder.replace(/\//g, '\\')}` : ''}`,
      output,
      stop: async () => {
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          try {
            process.kill(-child.pid!, 'SIGTERM');
          } catch {
            /* already gone */
          }
          await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            /* all gone */
          }
        }
        await releaseAddress(address);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}
