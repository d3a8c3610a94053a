// Rampart's transport service for hardened Linux repositories (docs/immutability.md).
// One file, Node's built-in modules only, so the host's own `node` runs it as is: it is
// copied to the host at install time over the single-use SSH login and never changes.
// It runs as root, accepts only Rampart's TLS client certificate (pinned by SHA-256 at
// install), and offers only the chunk store's operations; nothing here runs a command
// the caller chooses. Every retained file gets the kernel's immutable attribute
// (chattr +i) and an expiry file beside it; before the expiry nothing is deleted or
// rewritten, whoever asks.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';

const config = JSON.parse(readFileSync(process.argv[2] ?? '/etc/rampart-transport/config.json', 'utf8'));
const ROOT = path.resolve(config.root);
const UNTIL_SUFFIX = '.rampart-until';
const TEMP = '.tmp-';
const SAFE_KEY = /^(?:[A-Za-z0-9_][A-Za-z0-9._-]*\/)*[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const pin = String(config.clientFingerprint256).toUpperCase();

class Refused extends Error {
  constructor(status, body) {
    super(body.message);
    this.status = status;
    this.body = body;
  }
}

function fileOf(key) {
  if (typeof key !== 'string' || !SAFE_KEY.test(key) || key.endsWith(UNTIL_SUFFIX) || key.split('/').some((p) => p === '.' || p === '..'))
    throw new Refused(400, { message: `"${key}" is not a valid key` });
  return path.join(ROOT, key);
}

const chattr = (flag, file) =>
  new Promise((resolve, reject) =>
    execFile('chattr', [flag, file], (err, _o, stderr) => (err ? reject(new Error(`chattr ${flag} ${file}: ${stderr || err.message}`)) : resolve())),
  );

async function untilOf(file) {
  try {
    return Number(await fs.readFile(file + UNTIL_SUFFIX, 'utf8'));
  } catch {
    return 0;
  }
}
const exists = (file) =>
  fs.stat(file).then(
    () => true,
    () => false,
  );

async function refuseIfRetained(key, file, what) {
  const until = await untilOf(file);
  if (until > Date.now())
    throw new Refused(423, {
      message: `${key} is immutable until ${new Date(until).toISOString()} (hardened repository); the transport service refuses to ${what} it before then.`,
      until: new Date(until).toISOString(),
    });
}

/** Clears the attribute (after expiry only) so the file may go or be replaced. */
async function release(file) {
  for (const f of [file, file + UNTIL_SUFFIX]) if (await exists(f)) await chattr('-i', f);
}

async function setUntil(file, until) {
  const side = file + UNTIL_SUFFIX;
  if (await exists(side)) await chattr('-i', side);
  await fs.writeFile(side, String(until));
  await chattr('+i', side);
}

async function put(key, data, ifAbsent, until) {
  const file = fileOf(key);
  if (await exists(file)) {
    if (ifAbsent) return { created: false };
    await refuseIfRetained(key, file, 'rewrite');
    await release(file);
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}${TEMP}${randomBytes(6).toString('hex')}`;
  // On disk before it is named: a restore point must not point at chunks a power cut lost.
  const out = await fs.open(temp, 'wx', 0o600);
  try {
    await out.writeFile(data);
    await out.sync();
  } finally {
    await out.close();
  }
  if (ifAbsent) {
    // link() fails when the name exists: two writers racing, one wins.
    try {
      await fs.link(temp, file);
    } catch (err) {
      await fs.unlink(temp);
      if (err.code === 'EEXIST') return { created: false };
      throw err;
    }
    await fs.unlink(temp);
  } else await fs.rename(temp, file);
  if (until > 0) {
    await setUntil(file, until);
    await chattr('+i', file);
  }
  return { created: true };
}

async function* walk(dir) {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(full);
    else if (e.isFile() && !e.name.endsWith(UNTIL_SUFFIX)) yield full;
  }
}

async function list(prefix) {
  const start = path.join(ROOT, prefix.slice(0, prefix.lastIndexOf('/') + 1));
  const out = [];
  for await (const full of walk(start)) {
    const key = path.relative(ROOT, full).split(path.sep).join('/');
    if (!key.startsWith(prefix)) continue;
    const st = await fs.stat(full).catch(() => undefined);
    if (st) out.push({ key, size: st.size, modifiedMs: st.mtimeMs });
  }
  return out;
}

async function handle(req, body) {
  const url = new URL(req.url, 'https://service');
  const key = decodeURIComponent(url.pathname.replace(/^\/(o|stat|touch)\//, ''));
  const route = `${req.method} ${url.pathname.split('/')[1]}`;
  switch (route) {
    case 'PUT o':
      return put(key, body, url.searchParams.get('ifAbsent') === '1', Number(url.searchParams.get('until') ?? 0));
    case 'GET o': {
      const file = fileOf(key);
      const handle = await fs.open(file).catch(() => undefined);
      if (!handle) throw new Refused(404, { message: `${key} is missing` });
      try {
        const st = await handle.stat();
        const offset = Number(url.searchParams.get('offset') ?? 0);
        const length = url.searchParams.has('length') ? Number(url.searchParams.get('length')) : st.size - offset;
        const buf = Buffer.alloc(Math.max(0, Math.min(length, st.size - offset)));
        await handle.read(buf, 0, buf.length, offset);
        return buf;
      } finally {
        await handle.close();
      }
    }
    case 'GET stat': {
      const file = fileOf(key);
      const st = await fs.stat(file).catch(() => undefined);
      if (!st) throw new Refused(404, { message: `${key} is missing` });
      const until = await untilOf(file);
      return { key, size: st.size, modifiedMs: st.mtimeMs, ...(until ? { until: new Date(until).toISOString() } : {}) };
    }
    case 'GET list':
      return list(url.searchParams.get('prefix') ?? '');
    case 'DELETE o': {
      const file = fileOf(key);
      if (!(await exists(file))) return {};
      await refuseIfRetained(key, file, 'delete');
      await release(file);
      await fs.unlink(file);
      await fs.unlink(file + UNTIL_SUFFIX).catch(() => undefined);
      return {};
    }
    case 'POST retain': {
      // One call for a batch of keys: a newer restore point reusing chunks extends them all at once.
      const { keys, until } = JSON.parse(body.toString('utf8'));
      let extended = 0;
      for (const k of keys) {
        const file = fileOf(k);
        if (!(await exists(file))) continue;
        if ((await untilOf(file)) >= until) continue;
        await setUntil(file, until);
        await chattr('+i', file);
        extended++;
      }
      return { extended };
    }
    case 'POST touch': {
      const file = fileOf(key);
      const now = new Date();
      await fs.utimes(file, now, now);
      return {};
    }
    case 'POST rename': {
      const { from, to } = JSON.parse(body.toString('utf8'));
      const src = fileOf(from);
      await refuseIfRetained(from, src, 'rename');
      if (!(await exists(src))) throw new Refused(404, { message: `${from} is missing` });
      const dst = fileOf(to);
      await refuseIfRetained(to, dst, 'rewrite');
      await release(dst);
      await fs.mkdir(path.dirname(dst), { recursive: true });
      await fs.rename(src, dst);
      return {};
    }
    case 'GET capacity': {
      const s = await fs.statfs(ROOT);
      return { capacity: s.blocks * s.bsize, available: s.bavail * s.bsize };
    }
    default:
      throw new Refused(404, { message: `no operation ${route}` });
  }
}

const server = https.createServer({ cert: config.serverCertPem, key: config.serverKeyPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const out = await handle(req, Buffer.concat(chunks));
      if (Buffer.isBuffer(out)) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(out);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(out));
      }
    } catch (err) {
      const status = err instanceof Refused ? err.status : 500;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(err instanceof Refused ? err.body : { message: String(err.message) }));
    }
  });
});
// Mutual authentication: the client certificate must be the one pinned at install, checked
// before any request is read (self-signed on both sides, so pinning replaces a CA).
server.on('secureConnection', (socket) => {
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.fingerprint256 || cert.fingerprint256.toUpperCase() !== pin) socket.destroy();
});
server.listen(config.port, config.listen ?? '0.0.0.0', () => console.log(`rampart-transport listening on ${config.port}, root ${ROOT}`));
