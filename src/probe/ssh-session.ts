import type ssh2 from 'ssh2';
import { ssh2 as loadSsh2 } from './ssh2-library.js';
import { fingerprintMatches } from '../pki/fingerprints.js';
import { clampTimeout, withinDeadline, type ProbeOptions } from './deadline.js';
import { ProbeError, bareHost, describeTarget } from './errors.js';
import { recordFirstBytes, sshExchangeFailure } from './ssh-probe.js';
import { hostKeyAlgorithmsFor, hostKeyFromBlob, type SshHostKey } from './ssh-host-key.js';
import { connectTcp } from './tcp.js';

/** Who logs in, and how. Secrets stay in this object: never logged, never in a message. */
export interface SshLogin {
  username: string;
  password?: string;
  privateKey?: string;
  passphrase?: string;
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface SshSession {
  readonly hostKey: SshHostKey;
  /** Runs one command; `input` is written to its stdin (then closed). `pty` gives it a terminal (su wants one). */
  run(command: string, options?: { input?: string; pty?: boolean; onOutput?: (text: string, write: (s: string) => void) => void }): Promise<CommandResult>;
  /** An SFTP channel on this session (the chunk store's Linux repositories). */
  sftp(): Promise<ssh2.SFTPWrapper>;
  close(): void;
}

function loginFailure(target: string, login: SshLogin, err: Error): ProbeError {
  const method = login.privateKey ? 'the private key' : 'the password';
  if (/cannot parse privatekey|passphrase/i.test(err.message)) {
    return new ProbeError(
      'AuthenticationFailed',
      `The private key of user "${login.username}" cannot be opened: ${/passphrase/i.test(err.message) ? 'wrong or missing passphrase' : 'unreadable key'}.`,
    );
  }
  return new ProbeError(
    'AuthenticationFailed',
    `${target} refused the login of user "${login.username}" with ${method} (wrong ${login.privateKey ? 'key' : 'password'}, or the account may not log in over SSH).`,
  );
}

/**
 * Logs in to an SSH server whose host key must match `pinnedFingerprint`
 * (any form `fingerprintMatches` reads). The key is checked during the key
 * exchange, before any credential is sent: a host presenting another key never
 * sees the password.
 */
export function openSshSession(
  serverName: string,
  port: number,
  login: SshLogin,
  pinnedFingerprint: string,
  options: ProbeOptions & { hostKeyAlgorithm?: string },
): Promise<SshSession> {
  const serverHostKey = hostKeyAlgorithmsFor(options.hostKeyAlgorithm);
  const host = bareHost(serverName);
  const target = describeTarget(host, port);
  const commandTimeoutMs = clampTimeout(options.timeoutMs);
  return withinDeadline(host, port, options, async (signal, progress) => {
    const socket = await connectTcp(host, port, signal);
    progress.phase = 'ssh';
    const firstBytes = recordFirstBytes(socket);
    const client = new (loadSsh2().Client)();
    const abort = () => client.end();
    signal.addEventListener('abort', abort, { once: true });
    let presented: SshHostKey | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('ready', () => resolve());
        client.once('handshake', () => (progress.phase = 'auth'));
        client.on('error', (err: Error & { level?: string }) => {
          if (presented && !fingerprintMatches(pinnedFingerprint, presented.blob)) {
            reject(
              new ProbeError(
                'HostKeyMismatch',
                `The host key of ${target} does not match the pinned fingerprint: expected ${pinnedFingerprint}, the host presents ${presented.fingerprint} (${presented.algorithm}). Nothing was sent to it.`,
              ),
            );
          } else if (err.level === 'client-authentication' || /authentication methods failed|privatekey|passphrase/i.test(err.message)) {
            reject(loginFailure(target, login, err));
          } else {
            reject(sshExchangeFailure(host, port, firstBytes(), err));
          }
        });
        client.once('close', () => reject(sshExchangeFailure(host, port, firstBytes(), undefined)));
        try {
          client.connect({
            sock: socket,
            username: login.username,
            password: login.password,
            privateKey: login.privateKey,
            passphrase: login.passphrase,
            tryKeyboard: Boolean(login.password),
            readyTimeout: 60_000,
            ...(serverHostKey ? { algorithms: { serverHostKey: serverHostKey as ssh2.ServerHostKeyAlgorithm[] } } : {}),
            hostVerifier: (blob: Buffer) => {
              presented = hostKeyFromBlob(blob);
              return fingerprintMatches(pinnedFingerprint, blob);
            },
          });
        } catch (err) {
          // ssh2 reads the private key synchronously and throws when it does not open.
          reject(loginFailure(target, login, err as Error));
        }
        // Servers that offer keyboard-interactive instead of password get the password as the answer.
        client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => login.password ?? '')));
      });
    } catch (err) {
      client.end();
      socket.destroy();
      throw err;
    }
    signal.removeEventListener('abort', abort);
    return sessionOver(client, presented!, target, commandTimeoutMs);
  });
}

function sessionOver(client: ssh2.Client, hostKey: SshHostKey, target: string, commandTimeoutMs: number): SshSession {
  return {
    hostKey,
    close: () => client.end(),
    sftp: () =>
      new Promise<ssh2.SFTPWrapper>((resolve, reject) =>
        client.sftp((err, sftp) => (err ? reject(new ProbeError('CommandFailed', `${target} refused an SFTP channel: ${err.message}`)) : resolve(sftp))),
      ),
    run(command, options = {}) {
      return new Promise<CommandResult>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new ProbeError('TimedOut', `The command "${command.split(' ')[0]}" on ${target} did not finish within ${commandTimeoutMs} ms.`));
        }, commandTimeoutMs);
        client.exec(command, options.pty ? { pty: { term: 'dumb', rows: 24, cols: 200 } } : {}, (err, channel) => {
          if (err) {
            clearTimeout(timer);
            return reject(new ProbeError('CommandFailed', `${target} refused to run a command: ${err.message}`));
          }
          let stdout = '';
          let stderr = '';
          const write = (s: string) => channel.write(s);
          channel.on('data', (chunk: Buffer) => {
            stdout += chunk.toString('utf8');
            options.onOutput?.(stdout, write);
          });
          channel.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
          let code: number | null = null;
          channel.on('exit', (exitCode: number | null) => (code = exitCode));
          channel.on('close', () => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
          });
          if (options.input !== undefined) channel.end(options.input);
          else if (!options.pty) channel.end();
        });
      });
    },
  };
}
