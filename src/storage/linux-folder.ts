import { randomUUID } from 'node:crypto';
import { StorageCheckError, type StorageFigures } from './figures.js';
import type { StepRunner } from './steps.js';

/** A logged-in shell on a managed Linux host (the SSH session of src/probe fits). */
export interface RemoteShell {
  run(command: string, options?: { input?: string }): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** POSIX single-quoting: the path reaches the remote shell as one literal word. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

async function mustRun(shell: RemoteShell, command: string, failure: (stderr: string) => string, input?: string): Promise<string> {
  const result = await shell.run(command, input !== undefined ? { input } : undefined);
  if (result.code !== 0) throw new StorageCheckError(failure(result.stderr.trim().split('\n').slice(-1)[0] || `exit code ${result.code}`));
  return result.stdout;
}

/** `df -P -B1` of the folder's volume: total, used, available bytes (POSIX output, one data line). */
export async function measureLinuxFolder(shell: RemoteShell, folder: string): Promise<StorageFigures> {
  const out = await mustRun(shell, `LC_ALL=C df -P -B1 -- ${shellQuote(folder)}`, (e) => `Cannot measure ${folder}: ${e}.`);
  const line = out.trim().split('\n').pop() ?? '';
  const cols = line.trim().split(/\s+/);
  const [total, used, avail] = [Number(cols[1]), Number(cols[2]), Number(cols[3])];
  if (![total, used, avail].every(Number.isFinite)) throw new StorageCheckError(`Cannot read the output of df for ${folder}: "${line.slice(0, 120)}".`);
  return { capacityBytes: total, freeBytes: avail, usedBytes: used, source: 'filesystem' };
}

export interface LinuxFolderCheck {
  /** LinuxHardened: the folder must belong to the login account and be closed to others (Veeam: owner-only, 700). */
  hardened?: boolean;
  write?: boolean;
}

/**
 * The add/edit checks for a repository folder on a managed Linux host, over its
 * SSH session: absolute path, folder created if missing, a probe file written,
 * read back and deleted, the volume measured; for hardened repositories the
 * folder's owner and mode as Veeam documents them for immutability.
 */
export async function checkLinuxFolder(shell: RemoteShell, folder: string, steps: StepRunner, options: LinuxFolderCheck = {}): Promise<StorageFigures> {
  if (!folder.startsWith('/')) throw new StorageCheckError(`The path "${folder}" is not absolute; give the full path of the folder on the Linux host (e.g. /mnt/backups).`);
  const q = shellQuote(folder);
  await steps.step(
    `Creating folder ${folder} on the host if missing`,
    async () => {
      const out = await mustRun(
        shell,
        `if [ -d ${q} ]; then echo exists; elif [ -e ${q} ]; then echo notdir; else mkdir -p -m 700 -- ${q} && echo created; fi`,
        (e) => `Cannot create the folder ${folder} on the host: ${e}.`,
      );
      const what = out.trim();
      if (what === 'notdir') throw new StorageCheckError(`The path ${folder} exists on the host but is not a folder.`);
      return what;
    },
    (what) => `Folder ${folder} ${what}`,
  );
  if (options.hardened) {
    await steps.step(
      `Checking ownership and permissions of ${folder} for immutability`,
      async () => {
        const out = await mustRun(shell, `id -un; stat -c '%U %a' -- ${q}`, (e) => `Cannot read the owner of ${folder}: ${e}.`);
        const [login, statLine] = out.trim().split('\n');
        const [owner, mode] = (statLine ?? '').split(' ');
        if (owner !== login)
          throw new StorageCheckError(`The folder ${folder} belongs to "${owner}", not to the account "${login}" the repository logs in with; run: chown ${login} ${folder}.`);
        if (!/^[0-7]?[0-7]00$/.test(mode ?? ''))
          throw new StorageCheckError(`The folder ${folder} has mode ${mode}; a hardened repository folder must be closed to group and others; run: chmod 700 ${folder}.`);
        return `${owner} ${mode}`;
      },
      (v) => `Owner and mode ${v}: fit for immutable backups`,
    );
  }
  if (options.write !== false) {
    await steps.step(
      `Checking that ${folder} is writable`,
      async () => {
        const file = `${folder.replace(/\/+$/, '')}/.rampart-probe-${randomUUID()}`;
        const content = randomUUID();
        const f = shellQuote(file);
        try {
          await mustRun(shell, `set -o noclobber; cat > ${f}`, (e) => `Cannot write to ${folder} on the host: ${e}.`, content);
          const back = await mustRun(shell, `cat -- ${f}`, (e) => `Cannot read back the probe file in ${folder}: ${e}.`);
          if (back !== content) throw new StorageCheckError(`The probe file written to ${folder} read back different content: the storage is not reliable.`);
        } finally {
          await shell.run(`rm -f -- ${f}`).catch(() => undefined);
        }
      },
      () => `Wrote, read back and deleted a probe file in ${folder}`,
    );
  }
  return steps.step(
    `Measuring the volume of ${folder}`,
    () => measureLinuxFolder(shell, folder),
    (f) => `Capacity ${((f.capacityBytes ?? 0) / 1024 ** 3).toFixed(2)} GB, free ${((f.freeBytes ?? 0) / 1024 ** 3).toFixed(2)} GB`,
  );
}
