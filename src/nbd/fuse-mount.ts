// An NBD export as a plain file, through Debian's `nbdfuse` (libnbd-bin): instant recovery
// hands that file to the hypervisor. Every mount carries the FUSE fsname `rampart-nbd`, which
// is how start-up cleanup recognises Rampart's mounts left behind by a crash.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const RAMPART_FUSE_FSNAME = 'rampart-nbd';
const POLL_MS = 25;

export interface MountOptions {
  /** libnbd URI of the export, e.g. from `NbdServer.uri(name)`. */
  uri: string;
  /** A directory for the mount (created if missing); the file appears inside it. */
  mountPoint: string;
  /** Name of the file in the mount. Default `disk`. */
  fileName?: string;
  /** The export's size: the mount counts as ready when the file shows it. */
  size: number;
  readOnly?: boolean;
  /** Give up (and clean up) when the file is not there after this long. Default 15 s. */
  timeoutMs?: number;
}

export interface FuseMount {
  readonly mountPoint: string;
  /** The disk as a file. */
  readonly file: string;
  /** Unmounts (lazily if busy), waits for nbdfuse to exit, and removes the directory if it made it. */
  unmount(): Promise<void>;
}

export async function mountExportAsFile(options: MountOptions): Promise<FuseMount> {
  const mountPoint = path.resolve(options.mountPoint);
  const file = path.join(mountPoint, options.fileName ?? 'disk');
  const created = (await mkdir(mountPoint, { recursive: true })) !== undefined;
  const args = ['-o', `fsname=${RAMPART_FUSE_FSNAME}`, ...(options.readOnly ? ['-r'] : []), file, options.uri];
  const child = spawn('nbdfuse', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));

  const unmount = async () => {
    await unmountFuse(mountPoint, child, exited);
    if (created) await rmdir(mountPoint).catch(() => {});
  };

  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    if (exitCode !== undefined) {
      if (created) await rmdir(mountPoint).catch(() => {});
      throw new Error(`nbdfuse exited (${exitCode}) before the disk appeared: ${stderr.trim()}`);
    }
    const size = await stat(file).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === options.size) return { mountPoint, file, unmount };
    if (size !== undefined) {
      await unmount();
      throw new Error(`the mounted disk has ${size} bytes, expected ${options.size}`);
    }
    if (Date.now() > deadline) {
      await unmount();
      throw new Error(`the disk did not appear in ${mountPoint} in time: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function unmountFuse(mountPoint: string, child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const ok = await run('fusermount3', ['-u', mountPoint]).then(
      () => true,
      () => false,
    );
    // Busy (an open file) or not mounted yet: detach lazily, then make sure nbdfuse goes.
    if (!ok) await run('fusermount3', ['-u', '-z', mountPoint]).catch(() => {});
    const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
    if (!gone) {
      child.kill('SIGTERM');
      await exited;
    }
  }
  // nbdfuse may have died on its own (its server went away) and left the mount behind.
  if ((await rampartMountsUnder(mountPoint)).includes(mountPoint)) await run('fusermount3', ['-u', '-z', mountPoint]).catch(() => {});
}

/** Mount points of Rampart's FUSE mounts at or under `folder`, from /proc/self/mountinfo. */
export async function rampartMountsUnder(folder: string): Promise<string[]> {
  const root = path.resolve(folder);
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  const found: string[] = [];
  for (const line of table.split('\n')) {
    // "<id> <parent> <dev> <root> <mount point> <options> [optional…] - <fstype> <source> <super options>"
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountPoint = unescapeMountField(left.split(' ')[4] ?? '');
    const [fsType, source] = right.split(' ');
    if (!fsType?.startsWith('fuse') || source !== RAMPART_FUSE_FSNAME) continue;
    if (mountPoint === root || mountPoint.startsWith(root + path.sep)) found.push(mountPoint);
  }
  return found;
}

/**
 * Start-up cleanup: lazily unmounts every Rampart FUSE mount under `folder` (left by a crash,
 * its nbdfuse talking to a server that is gone) and returns the mount points it detached.
 * Deepest first, so nested mounts come off before their parents.
 */
export async function unmountStaleMounts(folder: string): Promise<string[]> {
  const stale = (await rampartMountsUnder(folder)).sort((a, b) => b.length - a.length);
  const done: string[] = [];
  for (const mountPoint of stale) {
    try {
      await run('fusermount3', ['-u', '-z', mountPoint]);
      done.push(mountPoint);
    } catch {
      // Already gone between the read of the table and now.
    }
  }
  return done;
}

/** mountinfo escapes space, tab, newline and backslash as octal (\040…). */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}
