import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

/** Runs `rampart <args>` as its own process against a data folder, passphrase on standard input. */
function cli(dataDir: string, args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      env: { ...process.env, RAMPART_DATA_DIR: dataDir, RAMPART_LOG_LEVEL: 'warn', RAMPART_SEAL_PASSPHRASE: '' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.stdin.end(stdin);
    child.once('exit', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

describe('export and import commands', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    [a, b] = await Promise.all([startTestServer(), startTestServer()]);
    const token = await a.adminToken();
    for (let i = 0; i < 25; i++) await a.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: `cli-${i}`, password: `Cli-Secret-${i}`, tag: `cli-${i}` } });
    await a.api.post('/api/v1/encryptionPasswords', { token, json: { password: 'Cli-Enc-Secret', hint: 'cli hint' } });
  });
  afterAll(async () => {
    await Promise.all([a?.cleanup(), b?.cleanup()]);
  });

  it('sealed export to a file, dry run, then import beside the running server with progress; secrets restored', async () => {
    const file = path.join(a.dataDir, 'config.json');
    const exported = await cli(a.dataDir, ['export', '--to', file, '--seal'], 'cli passphrase\n');
    expect(exported.code, exported.err).toBe(0);
    expect(exported.out).toContain('exported 25 credentials');
    expect(exported.out).toContain('(sealed)');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('Cli-Secret-1');
    expect(text).not.toContain('cli passphrase');

    const wrong = await cli(b.dataDir, ['import', file], 'not it\n');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('passphrase does not open');

    const dry = await cli(b.dataDir, ['import', file, '--dry-run'], 'cli passphrase\n');
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toMatch(/Success: Dry run, nothing changed: would create 26/);
    const token = await b.adminToken();
    expect((await b.api.get('/api/v1/credentials?limit=0', { token })).body.pagination.total).toBe(0);

    const real = await cli(b.dataDir, ['import', file, '--on-conflict', 'skip'], 'cli passphrase\n');
    expect(real.code, real.err).toBe(0);
    expect(real.out).toContain('imported 26/26');
    expect(real.out).toMatch(/Success: created 26, overwrote 0, skipped 0/);
    const list = (await b.api.get('/api/v1/credentials?nameFilter=cli-7', { token })).body.data;
    expect(await b.server.vault.credentials.secretsFor(list[0].id)).toEqual({ password: 'Cli-Secret-7' });
    // The server lists the command's session with the others.
    const sessions = (await b.api.get('/api/v1/automation/sessions', { token })).body.data;
    expect(sessions.map((s: any) => s.result.result)).toEqual(['Success', 'Success']);
  });

  it('a malformed file is refused before anything is touched', async () => {
    const file = path.join(b.dataDir, 'bad.json');
    await import('node:fs/promises').then((fs) => fs.writeFile(file, JSON.stringify({ credentials: { credentials: [{ username: 'x', type: 'Windows' }] } })));
    const res = await cli(b.dataDir, ['import', file]);
    expect(res.code).toBe(2);
    expect(res.err).toContain('credentials/credentials/0/type');
  });
});
