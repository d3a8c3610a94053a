import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/client.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir() {
  const d = await mkdtemp(path.join(tmpdir(), 'rampart-start-'));
  dirs.push(d);
  return d;
}

/** Runs the server the way `npm start` does (tsx src/main.ts serve), as its own process. */
function startProcess(env: Record<string, string>): { child: ChildProcessWithoutNullStreams; output: () => string; ready: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], { env: { ...process.env, RAMPART_HOST: '127.0.0.1', RAMPART_LOG_LEVEL: 'warn', ...env } });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const ready = new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /Rampart is ready on (https:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
  return { child, output: () => out, ready };
}

describe('start-up', () => {
  it('first start creates the database, certificate and administrator, prints the password once, and shuts down gracefully', { timeout: 180_000 }, async () => {
    const dataDir = await tempDir();
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const first = startProcess({ RAMPART_DATA_DIR: dataDir, RAMPART_PORT: port });
    const url = await first.ready;
    expect(url).toBe(`https://127.0.0.1:${port}`);
    const password = /password:\s*\n\s*\n\s+(\S+)/.exec(first.output())![1]!;
    expect(password).toHaveLength(20);
    const api = new ApiClient(url);
    const login = await api.login('administrator', password);
    expect(login.access_token).toBeTruthy();
    await api.close();
    // The key files are private to the server's user.
    for (const f of ['server-certificate.pem', 'token-signing.key']) {
      expect((await stat(path.join(dataDir, f))).mode & 0o077, f).toBe(0);
    }
    expect((await stat(path.join(dataDir, 'rampart.sqlite'))).isFile()).toBe(true);
    // The password is stored only as an argon2id hash.
    // (WAL mode: recent pages may still sit in the -wal file.)
    const wal = await readFile(path.join(dataDir, 'rampart.sqlite-wal')).catch(() => Buffer.alloc(0));
    const db = Buffer.concat([await readFile(path.join(dataDir, 'rampart.sqlite')), wal]);
    expect(db.includes(Buffer.from(password))).toBe(false);
    expect(db.includes(Buffer.from('$argon2id$'))).toBe(true);
    first.child.kill('SIGTERM');
    const code = await new Promise((r) => first.child.once('exit', r));
    expect(code).toBe(0);

    // Second start: no new password is printed, the same one works.
    const second = startProcess({ RAMPART_DATA_DIR: dataDir, RAMPART_PORT: port });
    await second.ready;
    expect(second.output()).not.toContain('password');
    const api2 = new ApiClient(url);
    expect((await api2.login('administrator', password)).access_token).toBeTruthy();
    await api2.close();
    second.child.kill('SIGINT');
    expect(await new Promise((r) => second.child.once('exit', r))).toBe(0);
  });

  it('stops with a clear message on bad configuration', { timeout: 180_000 }, async () => {
    for (const [env, message] of [
      [{ RAMPART_PORT: 'ninety' }, /RAMPART_PORT: "ninety" is not a whole number/],
      [{ RAMPART_PORT: '70000' }, /RAMPART_PORT: 70000 is out of range/],
      [{ RAMPART_LOG_LEVEL: 'loud' }, /RAMPART_LOG_LEVEL/],
      [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must start with postgres:\/\//],
      [{ RAMPART_ADMIN_PASSWORD: 'short' }, /at least 8 characters/],
      [{ RAMPART_CONFIG_FILE: '/nonexistent/rampart.json' }, /RAMPART_CONFIG_FILE: cannot read/],
      [
        { RAMPART_WASABI_ENDPOINT: 's3.{region}.example.com' },
        /RAMPART_WASABI_ENDPOINT: "s3\.\{region\}\.example\.com" is not a URL \(e\.g\. https:\/\/s3\.\{region\}\.wasabisys\.com\)/,
      ],
      [{ RAMPART_WASABI_ENDPOINT: 'https://s3.{zone}.example.com' }, /RAMPART_WASABI_ENDPOINT: .* has a placeholder other than \{region\}/],
      [{ RAMPART_GOOGLE_STORAGE_ENDPOINT: 'ftp://storage.example.com' }, /RAMPART_GOOGLE_STORAGE_ENDPOINT: "ftp:\/\/storage\.example\.com" must be an http:\/\/ or https:\/\/ URL/],
    ] as [Record<string, string>, RegExp][]) {
      const p = startProcess({ RAMPART_DATA_DIR: await tempDir(), ...env });
      const code = await new Promise((r) => p.child.once('exit', r));
      p.ready.catch(() => undefined);
      expect(code, JSON.stringify(env)).toBe(78);
      expect(p.output()).toMatch(message);
    }
  });
});

describe('admin command line', () => {
  // Nine command-line processes, each starting TypeScript through tsx: slow on a busy 2-core machine.
  it('adds, lists and changes users; a password change signs the user out', { timeout: 240_000 }, async () => {
    const dataDir = await tempDir();
    const env = { ...process.env, RAMPART_DATA_DIR: dataDir, RAMPART_ADMIN_PASSWORD: 'First-Admin-Pw1' };
    const cli = (args: string[], input?: string) =>
      new Promise<{ code: number; out: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env });
        let out = '';
        child.stdout.on('data', (c) => (out += c));
        child.stderr.on('data', (c) => (out += c));
        child.stdin.end(input ?? '');
        child.once('exit', (code) => resolve({ code: code ?? -1, out }));
      });
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const server = startProcess({ RAMPART_DATA_DIR: dataDir, RAMPART_PORT: port, RAMPART_ADMIN_PASSWORD: 'First-Admin-Pw1' });
    const url = await server.ready;
    try {
      expect((await cli(['user', 'add', 'Olga', '--role', 'Operator', '--password-stdin'], 'Olga-Passw0rd\n')).code).toBe(0);
      const generated = await cli(['user', 'add', 'victor']);
      expect(generated.out).toMatch(/added victor \(Viewer\)/);
      const victorPassword = /password: (\S+)/.exec(generated.out)![1]!;
      const list = await cli(['user', 'list']);
      expect(list.out).toMatch(/administrator\tAdministrator/);
      expect(list.out).toMatch(/Olga\tOperator/);
      expect(list.out).toMatch(/victor\tViewer/);
      expect((await cli(['user', 'add', 'olga', '--password-stdin'], 'Another-Pw1\n')).out).toMatch(/already exists/);
      expect((await cli(['user', 'add', 'bad name!'])).code).not.toBe(0);
      expect((await cli(['user', 'add', 'x', '--role', 'God'])).code).toBe(2);

      const api = new ApiClient(url);
      const olga = await api.login('olga', 'Olga-Passw0rd');
      expect((await api.get('/api/v1/serverInfo', { token: olga.access_token })).status).toBe(200);
      expect((await api.login('victor', victorPassword)).access_token).toBeTruthy();
      expect((await cli(['user', 'passwd', 'Olga', '--password-stdin'], 'Olga-New-Pw1\n')).code).toBe(0);
      // The running server sees the change through the database within a second.
      await new Promise((r) => setTimeout(r, 1200));
      expect((await api.get('/api/v1/serverInfo', { token: olga.access_token })).status).toBe(401);
      expect((await api.post('/api/oauth2/token', { form: { grant_type: 'password', username: 'olga', password: 'Olga-Passw0rd' } })).status).toBe(401);
      expect((await api.login('olga', 'Olga-New-Pw1')).access_token).toBeTruthy();
      await api.close();
    } finally {
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));
    }
  });
});
