import net from 'node:net';
import { StorageCheckError } from './figures.js';

/**
 * A TCP connection to the share's host on the protocol's port (SMB 445, NFS 2049):
 * what can be verified of a network share without mounting it.
 */
export function checkPortReachable(host: string, port: number, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (reason: string) => {
      socket.destroy();
      reject(new StorageCheckError(`The ${what} host ${host} is not reachable on port ${port} (${reason}); check the share path and that the file server is running.`));
    };
    socket.setTimeout(timeoutMs, () => fail('no answer in time'));
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
  });
}

/** The host of `\\server\share\folder` (SMB) or `server:/export/folder` (NFS). */
export function shareHost(sharePath: string, protocol: 'smb' | 'nfs'): string | undefined {
  if (protocol === 'smb') return /^\\\\([^\\/]+)[\\/][^\\/]+/.exec(sharePath)?.[1];
  return /^(\[[^\]]+\]|[^:/\s]+):\/.+/.exec(sharePath)?.[1]?.replace(/^\[|\]$/g, '');
}
