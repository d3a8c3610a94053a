import net from 'node:net';
import { ProbeError, describeTarget } from './errors.js';

const nameErrors = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NODATA', 'EAI_NONAME', 'EAI_FAIL']);

/** Turns a socket error into the failure a person can act on. */
export function socketFailure(err: NodeJS.ErrnoException, host: string, port: number): ProbeError {
  const target = describeTarget(host, port);
  const code = err.code ?? '';
  if (nameErrors.has(code)) return new ProbeError('NameNotResolved', `The name "${host}" does not resolve (DNS answered ${code}); check the spelling or use an IP address.`);
  if (code === 'ECONNREFUSED')
    return new ProbeError('ConnectionRefused', `The connection to ${target} was refused: nothing listens on port ${port} there, or a firewall rejects it.`);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL') {
    return new ProbeError('Unreachable', `${target} is unreachable from this server (${code}).`);
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') return new ProbeError('HandshakeFailed', `${target} closed the connection abruptly (${code}).`);
  return new ProbeError('HandshakeFailed', `Connecting to ${target} failed: ${err.message}`);
}

/** Opens a TCP connection; the signal destroys it at any point. */
export function connectTcp(host: string, port: number, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new ProbeError('Canceled', `The connection to ${describeTarget(host, port)} was canceled.`));
    const socket = net.connect({ host, port, noDelay: true });
    signal.addEventListener('abort', () => socket.destroy(), { once: true });
    const onError = (err: NodeJS.ErrnoException) => reject(socketFailure(err, host, port));
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
