import type { Socket } from 'node:net';
import type ssh2 from 'ssh2';
import { ssh2 as loadSsh2 } from './ssh2-library.js';
import { withinDeadline, type ProbeOptions } from './deadline.js';
import { ProbeError, bareHost, describeTarget } from './errors.js';
import { describePeer, recognizePeer } from './peer-banner.js';
import { hostKeyAlgorithmsFor, hostKeyFromBlob, type SshHostKey } from './ssh-host-key.js';
import { connectTcp } from './tcp.js';

export interface SshProbeResult extends SshHostKey {
  host: string;
  port: number;
  /** The server's identification line, e.g. `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3`. */
  serverIdent: string;
  elapsedMs: number;
}

/** Keeps the first bytes the peer sent, to name what it speaks when SSH fails. */
export function recordFirstBytes(socket: Socket): () => Buffer {
  let first = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    first = Buffer.concat([first, chunk]).subarray(0, 256);
    if (first.length >= 256) socket.off('data', onData);
  };
  socket.on('data', onData);
  return () => first;
}

/** The failure of an SSH exchange, named from what the peer actually sent. */
export function sshExchangeFailure(host: string, port: number, firstBytes: Buffer, err: Error | undefined): ProbeError {
  const target = describeTarget(host, port);
  const peer = recognizePeer(firstBytes);
  if (peer.protocol !== 'ssh' && peer.protocol !== 'silent') {
    const hint = peer.protocol === 'tls' ? ' For a TLS service use type ViHost or WindowsHost.' : ' Check the port number.';
    return new ProbeError('WrongProtocol', `${target} does not speak SSH: it is ${describePeer(peer)}.${hint}`);
  }
  if (peer.protocol === 'silent') return new ProbeError('HandshakeFailed', `${target} closed the connection without saying anything${err ? ` (${err.message})` : ''}.`);
  return new ProbeError('HandshakeFailed', `The SSH key exchange with ${target} failed: ${err?.message ?? 'the connection closed'}.`);
}

/**
 * Reads the host key an SSH server presents. The key exchange runs to the end
 * (so the server has proved it holds the key's private half) and the
 * connection closes before any login: no credentials are needed or sent.
 */
export function probeSshHostKey(serverName: string, port: number, options: ProbeOptions & { hostKeyAlgorithm?: string }): Promise<SshProbeResult> {
  const serverHostKey = hostKeyAlgorithmsFor(options.hostKeyAlgorithm);
  const host = bareHost(serverName);
  const started = performance.now();
  return withinDeadline(host, port, options, async (signal, progress) => {
    const socket = await connectTcp(host, port, signal);
    progress.phase = 'ssh';
    const firstBytes = recordFirstBytes(socket);
    const client = new (loadSsh2().Client)();
    signal.addEventListener('abort', () => client.end(), { once: true });
    try {
      const key = await new Promise<Buffer>((resolve, reject) => {
        let seen: Buffer | undefined;
        client.once('handshake', () => (seen ? resolve(seen) : reject(new Error('no host key'))));
        client.on('error', (err) => reject(sshExchangeFailure(host, port, firstBytes(), err)));
        client.once('close', () => reject(sshExchangeFailure(host, port, firstBytes(), undefined)));
        client.connect({
          sock: socket,
          username: 'rampart-probe',
          // Our own deadline governs; ssh2's must never fire first.
          readyTimeout: 60_000,
          ...(serverHostKey ? { algorithms: { serverHostKey: serverHostKey as ssh2.ServerHostKeyAlgorithm[] } } : {}),
          hostVerifier: (blob: Buffer) => {
            seen = Buffer.from(blob);
            return true;
          },
        });
      });
      const ident = /^(SSH-[^\r\n]*)/m.exec(firstBytes().toString('latin1'))?.[1] ?? '';
      return { host, port, ...hostKeyFromBlob(key), serverIdent: ident, elapsedMs: performance.now() - started };
    } finally {
      client.end();
      socket.destroy();
    }
  });
}
