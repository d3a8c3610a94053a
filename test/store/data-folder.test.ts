import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, expect, it } from 'vitest';
import { tightenDataFolder } from '../../src/data-folder.js';

const run = promisify(execFile);
let dir: string | undefined;
let mounted: string | undefined;

afterAll(async () => {
  if (mounted) await run('umount', ['-l', mounted]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('tightens loose folders and files but leaves a file system mounted inside alone (an instant recovery disk)', async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rampart-datafolder-'));
  await mkdir(path.join(dir, 'ir', 'm', 'disk'), { recursive: true });
  await writeFile(path.join(dir, 'loose'), 'x');
  await chmod(path.join(dir, 'loose'), 0o644);
  await chmod(path.join(dir, 'ir'), 0o755);
  // Another file system inside the data folder, with its own (looser) modes: not ours to change.
  mounted = path.join(dir, 'ir', 'm', 'disk');
  await run('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', mounted]);
  await writeFile(path.join(mounted, 'inside'), 'y');
  await chmod(path.join(mounted, 'inside'), 0o644);
  await tightenDataFolder(dir, pino({ level: 'silent' }));
  expect((await stat(path.join(dir, 'loose'))).mode & 0o777).toBe(0o600);
  expect((await stat(path.join(dir, 'ir'))).mode & 0o777).toBe(0o700);
  expect((await stat(mounted)).mode & 0o777).toBe(0o755);
  expect((await stat(path.join(mounted, 'inside'))).mode & 0o777).toBe(0o644);
});
