import { openSync, readFileSync, closeSync, writeSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { VaultError } from './errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One rotation at a time per data folder: a lock file holding the owner's pid.
 * A lock left by a process that died (an interrupted rotation) is taken over.
 */
export function acquireRotationLock(dataDir: string): () => void {
  const file = path.join(dataDir, 'master.key.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          unlinkSync(file);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new VaultError('RotationRunning', `A master key rotation is already running (process ${pid}); wait for it to finish.`);
      }
      unlinkSync(file);
    }
  }
  throw new VaultError('RotationRunning', `Cannot take the rotation lock ${file}.`);
}
