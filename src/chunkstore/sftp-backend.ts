/**
 * A repository folder on a Linux host, over SFTP on the pinned-host-key SSH
 * session of src/probe (docs/repository-format.md §1 "Writes": temp file, then
 * posix-rename@openssh.com; create-only through hardlink@openssh.com).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path/posix';
import type ssh2 from 'ssh2';
import { openSshSession, type SshLogin, type SshSession } from '../probe/ssh-session.js';
import { BlobNotFoundError, checkKey, TEMP_MARKER, type BlobBackend, type BlobInfo } from './backend.js';

type Sftp = ssh2.SFTPWrapper;
const NO_SUCH_FILE = 2;
const FAILURE = 4;

const code = (err: unknown) => (err as { code?: number })?.code;
const call = <T>(fn: (cb: (err: Error | undefined | null, value: T) => void) => void) =>
  new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));

/** The store over an SFTP channel; `root` is the repository folder's absolute path on the host. */
export function sftpBackend(sftp: Sftp, root: string, options: { host: string; onClose?: () => void }): BlobBackend {
  if (!root.startsWith('/')) throw new Error(`the repository folder "${root}" on ${options.host} is not an absolute path`);
  const base = root.replace(/\/+$/, '') || '/';
  const where = `folder ${base} on ${options.host}`;
  const full = (key: string) => path.join(base, checkKey(key));
  const madeDirs = new Set<string>();
  const hasExtension = (name: string) => (sftp as unknown as { _extensions?: Record<string, string> })._extensions?.[name] !== undefined;

  async function mkdirs(dir: string): Promise<void> {
    if (madeDirs.has(dir) || dir === '/') return;
    try {
      await call<void>((cb) => sftp.mkdir(dir, cb as never));
    } catch (err) {
      if (code(err) === NO_SUCH_FILE) {
        await mkdirs(path.dirname(dir));
        await call<void>((cb) => sftp.mkdir(dir, cb as never)).catch(async (again) => {
          if (!(await stat(dir))) throw again;
        });
      } else if (!(await stat(dir))) throw err; // FAILURE is what OpenSSH answers for "exists"
    }
    madeDirs.add(dir);
  }

  async function stat(p: string): Promise<ssh2.Stats | undefined> {
    try {
      return await call<ssh2.Stats>((cb) => sftp.stat(p, cb));
    } catch (err) {
      if (code(err) === NO_SUCH_FILE) return undefined;
      throw err;
    }
  }

  async function writeTemp(key: string, data: Uint8Array): Promise<{ temp: string; target: string }> {
    const target = full(key);
    await mkdirs(path.dirname(target));
    const temp = `${target}${TEMP_MARKER}${randomBytes(6).toString('hex')}`;
    const handle = await call<Buffer>((cb) => sftp.open(temp, 'wx', cb));
    try {
      // Pipelined writes: ssh2 sends them without waiting for each answer.
      const step = 32 * 1024;
      const writes: Promise<void>[] = [];
      for (let at = 0; at < data.length; at += step) {
        const n = Math.min(step, data.length - at);
        writes.push(call<void>((cb) => sftp.write(handle, Buffer.from(data.buffer, data.byteOffset + at, n), 0, n, at, cb as never)));
      }
      await Promise.all(writes);
    } finally {
      await call<void>((cb) => sftp.close(handle, cb as never));
    }
    return { temp, target };
  }

  const unlink = (p: string) =>
    call<void>((cb) => sftp.unlink(p, cb as never)).catch((err) => {
      if (code(err) !== NO_SUCH_FILE) throw err;
    });

  const posixRename = (from: string, to: string) =>
    hasExtension('posix-rename@openssh.com') ? call<void>((cb) => sftp.ext_openssh_rename(from, to, cb as never)) : call<void>((cb) => sftp.rename(from, to, cb as never));

  async function* walk(dir: string, rel: string, prefix: string): AsyncGenerator<BlobInfo> {
    let entries: ssh2.FileEntryWithStats[];
    try {
      entries = await call<ssh2.FileEntryWithStats[]>((cb) => sftp.readdir(dir, cb));
    } catch (err) {
      if (code(err) === NO_SUCH_FILE || code(err) === FAILURE) return;
      throw err;
    }
    for (const entry of entries) {
      if (entry.filename === '.' || entry.filename === '..') continue;
      const key = rel ? `${rel}/${entry.filename}` : entry.filename;
      if (!(key.startsWith(prefix) || prefix.startsWith(`${key}/`))) continue;
      if (entry.attrs.isDirectory()) yield* walk(`${dir}/${entry.filename}`, key, prefix);
      else if (entry.attrs.isFile()) yield { key, size: entry.attrs.size, modifiedMs: entry.attrs.mtime * 1000 };
    }
  }

  return {
    description: where,
    async put(key, data) {
      const { temp, target } = await writeTemp(key, data);
      try {
        await posixRename(temp, target);
      } catch (err) {
        await unlink(temp).catch(() => undefined);
        throw err;
      }
    },
    async putIfAbsent(key, data) {
      const { temp, target } = await writeTemp(key, data);
      try {
        if (hasExtension('hardlink@openssh.com')) {
          try {
            await call<void>((cb) => sftp.ext_openssh_hardlink(temp, target, cb as never));
            return true;
          } catch (err) {
            if (await stat(target)) return false;
            throw err;
          }
        }
        // Without the extension: plain SFTP rename refuses to replace an existing file, which is create-only too.
        try {
          await call<void>((cb) => sftp.rename(temp, target, cb as never));
          return true;
        } catch (err) {
          if (await stat(target)) return false;
          throw err;
        }
      } finally {
        await unlink(temp).catch(() => undefined);
      }
    },
    async get(key, range) {
      const p = full(key);
      let handle: Buffer;
      try {
        handle = await call<Buffer>((cb) => sftp.open(p, 'r', cb));
      } catch (err) {
        if (code(err) === NO_SUCH_FILE) throw new BlobNotFoundError(key, where);
        throw err;
      }
      try {
        const size = range ? range.length : (await call<ssh2.Stats>((cb) => sftp.fstat(handle, cb))).size;
        const start = range?.offset ?? 0;
        const buffer = Buffer.alloc(size);
        const step = 32 * 1024;
        const reads: Promise<number>[] = [];
        for (let at = 0; at < size; at += step) {
          const n = Math.min(step, size - at);
          reads.push(call<number>((cb) => sftp.read(handle, buffer, at, n, start + at, cb as never)));
        }
        const got = await Promise.all(reads);
        const total = got.reduce((a, b) => a + b, 0);
        return total === size ? buffer : buffer.subarray(0, total);
      } finally {
        await call<void>((cb) => sftp.close(handle, cb as never)).catch(() => undefined);
      }
    },
    async head(key) {
      const s = await stat(full(key));
      return s && s.isFile() ? { key, size: s.size, modifiedMs: s.mtime * 1000 } : undefined;
    },
    list(prefix) {
      return walk(base, '', prefix);
    },
    delete: (key) => unlink(full(key)),
    async rename(from, to) {
      await mkdirs(path.dirname(full(to)));
      try {
        await posixRename(full(from), full(to));
      } catch (err) {
        if (code(err) === NO_SUCH_FILE) throw new BlobNotFoundError(from, where);
        throw err;
      }
    },
    async touch(key) {
      const now = new Date();
      await call<void>((cb) => sftp.utimes(full(key), now, now, cb as never));
    },
    async close() {
      sftp.end();
      options.onClose?.();
    },
  };
}

/**
 * Logs in to a Linux repository host (host key pinned, as every SSH use in
 * Rampart) and opens the store's backend on `folder`; close() ends the session.
 */
export async function openSftpBackend(
  target: { host: string; port: number; login: SshLogin; fingerprint: string; hostKeyAlgorithm?: string; folder: string },
  options: { timeoutMs?: number } = {},
): Promise<BlobBackend> {
  const session: SshSession = await openSshSession(target.host, target.port, target.login, target.fingerprint, {
    timeoutMs: options.timeoutMs ?? 20_000,
    ...(target.hostKeyAlgorithm ? { hostKeyAlgorithm: target.hostKeyAlgorithm } : {}),
  });
  try {
    const sftp = await session.sftp();
    return sftpBackend(sftp, target.folder, { host: target.host, onClose: () => session.close() });
  } catch (err) {
    session.close();
    throw err;
  }
}
