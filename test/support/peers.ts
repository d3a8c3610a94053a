import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import ssh2 from 'ssh2';
import { run } from './tls.js';

/**
 * Real peers on loopback for probing tests: TLS servers with certificates made
 * by openssl, plain HTTP, a listener that never speaks, a closed port, and an
 * in-process ssh2 server.
 */

export interface Peer {
  port: number;
  close(): Promise<void>;
}

export interface TlsMaterial {
  /** Leaf first, then the issuing CA when chained. */
  certPem: string;
  leafPem: string;
  keyPem: string;
  caPem?: string;
}

const closeServer = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

function listen(server: net.Server, host = '127.0.0.1', port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** Certificates as an administrator makes them with openssl: self-signed, or issued by a local CA. */
export async function makeTlsMaterial(key: 'rsa' | 'ec', options: { chained?: boolean; cn?: string } = {}): Promise<TlsMaterial> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rampart-peer-'));
  const cn = options.cn ?? 'peer.test';
  const keyArgs = key === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  const san = `subjectAltName=DNS:${cn},DNS:localhost,IP:127.0.0.1,IP:::1`;
  try {
    if (!options.chained) {
      await run(
        'openssl',
        ['req', '-x509', ...keyArgs, '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.pem', '-days', '30', '-subj', `/C=US/O=Rampart Tests/CN=${cn}`, '-addext', san],
        { cwd: dir },
      );
      const leafPem = await readFile(path.join(dir, 'leaf.pem'), 'utf8');
      return { certPem: leafPem, leafPem, keyPem: await readFile(path.join(dir, 'leaf.key'), 'utf8') };
    }
    await run(
      'openssl',
      [
        'req',
        '-x509',
        ...keyArgs,
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-days',
        '60',
        '-subj',
        '/CN=Rampart Test CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      { cwd: dir },
    );
    await run('openssl', ['req', ...keyArgs, '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${cn}`], { cwd: dir });
    await writeFile(path.join(dir, 'ext.cnf'), `${san}\nextendedKeyUsage=serverAuth\n`);
    await run('openssl', ['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '30', '-extfile', 'ext.cnf'], {
      cwd: dir,
    });
    const leafPem = await readFile(path.join(dir, 'leaf.pem'), 'utf8');
    const caPem = await readFile(path.join(dir, 'ca.pem'), 'utf8');
    return { certPem: leafPem + caPem, leafPem, caPem, keyPem: await readFile(path.join(dir, 'leaf.key'), 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A TLS server that answers HTTP over TLS (a stand-in for vCenter's or WinRM's HTTPS port). */
export async function startTlsPeer(material: TlsMaterial, host = '127.0.0.1'): Promise<Peer & { requests: string[]; connections(): number }> {
  const requests: string[] = [];
  let connections = 0;
  const server = tls.createServer({ key: material.keyPem, cert: material.certPem }, (socket) => {
    socket.on('error', () => undefined);
    socket.once('data', (chunk) => {
      requests.push(chunk.toString('latin1').split('\r\n')[0] ?? '');
      socket.end('HTTP/1.1 200 OK\r\nServer: stand-in\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
    });
  });
  server.on('tlsClientError', () => undefined);
  // Every TCP connection, handshake done or not: a probe that only reads the certificate counts too.
  server.on('connection', () => connections++);
  const port = await listen(server, host);
  return { port, requests, connections: () => connections, close: () => closeServer(server) };
}

export async function startHttpPeer(): Promise<Peer> {
  const server = http.createServer((_req, res) => res.end('plain'));
  const port = await listen(server);
  return { port, close: () => closeServer(server) };
}

/** Accepts connections and never says a word (on `::`, every loopback address reaches it). */
export async function startSilentPeer(host = '127.0.0.1'): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  const port = await listen(server, host);
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await closeServer(server);
    },
  };
}

/** Forwards every connection (on `::`) to a loopback port, counting them: how tests see whether a host was contacted. */
export async function startCountingForwarder(targetPort: number): Promise<Peer & { connections(): number }> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    count++;
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    socket.pipe(upstream).pipe(socket);
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  });
  const port = await listen(server, '::');
  return {
    port,
    connections: () => count,
    close: async () => {
      for (const s of sockets) s.destroy();
      await closeServer(server);
    },
  };
}

/** A port that was free a moment ago: nothing listens there. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

/** A loopback port free at the moment, for a service the test has started elsewhere to listen on. */
export const freePort = closedPort;

/**
 * Whether something accepts TCP connections on host:port. With `timeoutMs`, a connection
 * attempt unanswered that long counts as no (an address being brought up may swallow SYNs).
 */
export function acceptsConnections(host: string, port: number, timeoutMs?: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    if (timeoutMs !== undefined)
      socket.setTimeout(timeoutMs, () => {
        socket.destroy();
        resolve(false);
      });
  });
}

/**
 * An SSH key pair that ssh2 itself can read back. ssh2 1.17's generator strips
 * leading zero bytes from an Ed25519 public key, so about one Ed25519 pair in
 * 256 is malformed (mscdex/ssh2#1513); a test must not fail on that draw.
 */
export function sshKeyPair(type: 'ed25519' | 'ecdsa' = 'ed25519'): { private: string; public: string } {
  for (;;) {
    const pair = type === 'ecdsa' ? ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256 }) : ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error) && !(ssh2.utils.parseKey(pair.public) instanceof Error)) return pair;
  }
}

export interface Ssh2PeerOptions {
  hostKeys: string[];
  username: string;
  password?: string;
  /** OpenSSH public key line allowed to log in. */
  authorizedKey?: string;
  /** What `exec` answers, by command; default: a Debian-like host. */
  exec?: (command: string) => { stdout: string; code: number };
}

const fakeHostOutput = (command: string) => {
  if (command.startsWith('uname')) {
    return {
      stdout:
        'Linux 6.1.0-test x86_64\n--rampart--\nPRETTY_NAME="Stand-in Linux 1.0"\nNAME="Stand-in"\n--rampart--\nFilesystem 1024-blocks Used Available Capacity Mounted on\n/dev/root 1000000 400000 600000 40% /\n',
      code: 0,
    };
  }
  if (command === 'id -u') return { stdout: '1000\n', code: 0 };
  return { stdout: '', code: 127 };
};

/** An in-process SSH server (ssh2): password or public-key login, canned command output. */
export async function startSsh2Peer(options: Ssh2PeerOptions, host = '127.0.0.1', port = 0): Promise<Peer & { logins: string[] }> {
  const logins: string[] = [];
  const allowedKey = options.authorizedKey ? ssh2.utils.parseKey(options.authorizedKey) : undefined;
  const server = new ssh2.Server({ hostKeys: options.hostKeys }, (client) => {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      if (ctx.username !== options.username) return ctx.reject();
      if (ctx.method === 'password' && options.password !== undefined && ctx.password === options.password) {
        logins.push(`password:${ctx.username}`);
        return ctx.accept();
      }
      if (ctx.method === 'publickey' && allowedKey && !(allowedKey instanceof Error)) {
        const key = Array.isArray(allowedKey) ? allowedKey[0]! : allowedKey;
        if (ctx.key.algo === key.type && ctx.key.data.equals(key.getPublicSSH())) {
          if (!ctx.signature) return ctx.accept();
          if (key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true) {
            logins.push(`publickey:${ctx.username}`);
            return ctx.accept();
          }
        }
      }
      return ctx.reject(['password', 'publickey']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec, _reject, info) => {
          const stream = acceptExec();
          const answer = (options.exec ?? fakeHostOutput)(info.command);
          stream.write(answer.stdout);
          stream.exit(answer.code);
          stream.end();
        });
      });
    });
  });
  const bound = await listen(server as unknown as net.Server, host, port);
  return { port: bound, logins, close: () => closeServer(server as unknown as net.Server) };
}

/**
 * A TCP relay on a free loopback port to `targetPort` on 127.0.0.1 (a vCenter seen
 * through a faulty network). Every chunk the target sends goes through
 * `onTargetData` first, which says whether to pass it on (a hook that pauses or
 * cuts the connection returns false).
 */
export async function startTcpRelay(
  targetPort: number,
  onTargetData: (chunk: Buffer, sides: { client: net.Socket; upstream: net.Socket }) => boolean,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    upstream.on('data', (chunk: Buffer) => {
      if (onTargetData(chunk, { client, upstream })) client.write(chunk);
    });
    client.pipe(upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const port = await listen(server);
  return { port, close: () => closeServer(server) };
}
