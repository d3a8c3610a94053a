import { randomUUID } from 'node:crypto';
import { StorageCheckError, type StorageFigures } from './figures.js';
import { connectSmbShare, NtStatus, parseSharePath, SmbError, type SmbLogin, type SmbShareSession } from './smb-client.js';
import type { StepRunner } from './steps.js';

/** An SMB repository as the checks see it: Veeam's share path and the login from its Standard credentials. */
export interface SmbShareTarget {
  sharePath: string;
  login: SmbLogin;
  /** Tests only: smbd on another port (Veeam's share paths have none). */
  port?: number;
}

const LOGIN_REFUSED = [NtStatus.LogonFailure, NtStatus.AccountDisabled, NtStatus.AccountRestriction, NtStatus.PasswordExpired] as number[];

const reasonOf = (err: unknown) => (err instanceof SmbError ? err.reason : (err as Error).message);

const userOf = (login: SmbLogin) => (login.domain ? `${login.domain}\\${login.username}` : login.username);

function locate(target: SmbShareTarget) {
  const location = parseSharePath(target.sharePath);
  if (!location) throw new StorageCheckError(`The share path "${target.sharePath}" is not a UNC path such as \\\\server\\share\\folder.`);
  return location;
}

/** Logs in; a refused login, a missing share or an unreachable server become messages that say what to fix (never the password). */
async function logIn(target: SmbShareTarget, timeoutMs: number): Promise<SmbShareSession> {
  const location = locate(target);
  const where = `\\\\${location.server}\\${location.share}`;
  try {
    return await connectSmbShare(location, target.login, { timeoutMs, ...(target.port ? { port: target.port } : {}) });
  } catch (err) {
    if (err instanceof SmbError && LOGIN_REFUSED.includes(err.status))
      throw new StorageCheckError(`The SMB share ${where} refused the login of "${userOf(target.login)}": ${err.reason}. Check the share's credentials.`);
    if (err instanceof SmbError && err.status === NtStatus.BadNetworkName)
      throw new StorageCheckError(`The server ${location.server} has no share named "${location.share}" (share path "${target.sharePath}").`);
    if (err instanceof SmbError && err.status === NtStatus.AccessDenied)
      throw new StorageCheckError(
        `The SMB share ${where} refused access to "${userOf(target.login)}" (a server that requires SMB encryption answers so too: Rampart's SMB client does not encrypt).`,
      );
    throw new StorageCheckError(`Cannot connect to the SMB share ${where}: ${(err as Error).message}.`);
  }
}

function figuresOf(space: { totalBytes: number; freeBytes: number }): StorageFigures {
  return { capacityBytes: space.totalBytes, freeBytes: space.freeBytes, usedBytes: Math.max(0, space.totalBytes - space.freeBytes), source: 'filesystem' };
}

/**
 * The add/edit checks for an SMB repository: a real login with the share's
 * credentials, the folder created if missing, a probe file written, read back
 * byte for byte and deleted (skipped with `write: false`), and the share's
 * capacity and free space as the server reports them (FileFsFullSizeInformation).
 */
export async function checkSmbShare(target: SmbShareTarget, steps: StepRunner, options: { timeoutMs: number; write?: boolean }): Promise<StorageFigures> {
  const location = locate(target);
  const where = `\\\\${location.server}\\${location.share}`;
  const folderText = location.folder ? `${where}\\${location.folder}` : where;
  const share = await steps.step(
    `Logging in to the SMB share ${where} as "${userOf(target.login)}" (NTLMv2)`,
    () => logIn(target, options.timeoutMs),
    () => `Logged in to ${where}`,
  );
  try {
    if (location.folder)
      await steps.step(
        `Creating folder ${folderText} if missing`,
        async () => {
          try {
            await share.makeFolder(location.folder);
          } catch (err) {
            throw new StorageCheckError(`Cannot create the folder ${folderText}: ${reasonOf(err)}.`);
          }
        },
        () => `Folder ${folderText} is there`,
      );
    if (options.write !== false)
      await steps.step(
        `Checking that ${folderText} is writable`,
        async () => {
          const file = `${location.folder ? `${location.folder}\\` : ''}.rampart-probe-${randomUUID()}`;
          const content = Buffer.from(randomUUID());
          try {
            await share.writeNew(file, content);
            const back = await share.read(file);
            if (!back.equals(content)) throw new StorageCheckError(`The probe file written to ${folderText} read back different content: the share is not reliable.`);
          } catch (err) {
            if (err instanceof StorageCheckError) throw err;
            throw new StorageCheckError(`Cannot write to ${folderText}: ${reasonOf(err)}.`);
          } finally {
            await share.remove(file).catch(() => undefined);
          }
        },
        () => `Wrote, read back and deleted a probe file in ${folderText}`,
      );
    return await steps.step(
      `Measuring the capacity of ${where}`,
      async () => figuresOf(await share.space()),
      (f) => `${where}: ${(f.freeBytes! / 1024 ** 3).toFixed(1)} GiB free of ${(f.capacityBytes! / 1024 ** 3).toFixed(1)} GiB`,
    );
  } finally {
    await share.close().catch(() => undefined);
  }
}

/** Measurement (refresher, rescan): log in, ask the share for its size, log off. No writes. */
export async function measureSmbShare(target: SmbShareTarget, options: { timeoutMs: number }): Promise<StorageFigures> {
  const share = await logIn(target, options.timeoutMs);
  try {
    return figuresOf(await share.space());
  } finally {
    await share.close().catch(() => undefined);
  }
}
