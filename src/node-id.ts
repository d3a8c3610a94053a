import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The node id survives restarts, so a restarted node finds the sessions it left running. */
export async function loadNodeId(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'node-id');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const id = randomUUID();
    await writeFile(file, id + '\n', { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    return (await readFile(file, 'utf8')).trim();
  }
}
