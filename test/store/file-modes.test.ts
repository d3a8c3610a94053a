import { chmod, mkdir, readdir, stat, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../support/server.js';

async function modes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = { '.': ((await stat(dir)).mode & 0o777).toString(8) };
  const walk = async (at: string) => {
    for (const name of await readdir(at)) {
      const full = path.join(at, name);
      const s = await stat(full);
      out[path.relative(dir, full)] = (s.mode & 0o777).toString(8);
      if (s.isDirectory()) await walk(full);
    }
  };
  await walk(dir);
  return out;
}

describe('data folder modes', () => {
  it('a fresh start leaves the folder 0700 and every file 0600, the SQLite -wal and -shm included, without a warning', async () => {
    const t = await startTestServer();
    try {
      await t.adminToken();
      const found = await modes(t.dataDir);
      expect(Object.keys(found)).toEqual(expect.arrayContaining(['rampart.sqlite', 'rampart.sqlite-wal', 'rampart.sqlite-shm', 'master.key']));
      for (const [name, mode] of Object.entries(found)) expect(`${name} ${mode}`).toBe(`${name} ${name === '.' ? '700' : '600'}`);
      expect(t.logText()).not.toMatch(/readable by others/);
    } finally {
      await t.cleanup();
    }
  });

  it('tightens an existing folder and files left looser, and warns naming them', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'rampart-modes-'));
    try {
      const first = await startTestServer({}, dataDir);
      await first.stop();
      await mkdir(path.join(dataDir, 'exports'));
      await writeFile(path.join(dataDir, 'exports', 'old.json'), '{}', { mode: 0o644 });
      await chmod(path.join(dataDir, 'exports'), 0o755);
      await chmod(dataDir, 0o755);
      for (const name of await readdir(dataDir)) if (name !== 'exports') await chmod(path.join(dataDir, name), 0o644);

      const again = await startTestServer({}, dataDir);
      try {
        await again.adminToken();
        for (const [name, mode] of Object.entries(await modes(dataDir))) {
          const folder = name === '.' || name === 'exports';
          expect(`${name} ${mode}`).toBe(`${name} ${folder ? '700' : '600'}`);
        }
        const warning = again
          .logText()
          .split('\n')
          .find((line) => /readable by others/.test(line));
        expect(warning).toBeDefined();
        expect(warning).toMatch(/rampart\.sqlite \(644\)/);
        expect(warning).toMatch(/exports\/old\.json \(644\)/);
        expect(JSON.parse(warning!).level).toBe(40);
      } finally {
        await again.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
