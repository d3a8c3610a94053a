import { ProbeError } from './errors.js';
import type { SshSession } from './ssh-session.js';

/** What a harmless look at a Linux host tells: stored with the managed server. */
export interface LinuxHostFacts {
  /** PRETTY_NAME from /etc/os-release, e.g. `Debian GNU/Linux 12 (bookworm)`. */
  osName: string;
  /** `uname -sr`, e.g. `Linux 6.1.0-18-amd64`. */
  kernel: string;
  /** `uname -m`. */
  architecture: string;
  /** Free space of `/` in bytes, from `df -Pk /`. */
  rootFreeBytes: number;
  rootTotalBytes: number;
}

const SEPARATOR = '--rampart--';
/** One round trip, read-only commands that exist on every Linux. */
export const FACTS_COMMAND = `uname -srm; echo ${SEPARATOR}; cat /etc/os-release 2>/dev/null; echo ${SEPARATOR}; LC_ALL=C df -Pk / 2>/dev/null`;

export function parseHostFacts(output: string): LinuxHostFacts {
  const [unamePart = '', osRelease = '', dfPart = ''] = output.split(SEPARATOR);
  const uname = unamePart.trim().split(/\s+/);
  const architecture = uname.length >= 3 ? uname[uname.length - 1]! : '';
  const kernel = uname.length >= 3 ? uname.slice(0, -1).join(' ') : uname.join(' ');
  const field = (name: string) =>
    new RegExp(`^${name}=(.*)$`, 'm')
      .exec(osRelease)?.[1]
      ?.trim()
      .replace(/^"(.*)"$/, '$1');
  const osName = field('PRETTY_NAME') ?? [field('NAME'), field('VERSION')].filter(Boolean).join(' ');
  // POSIX df: "Filesystem 1024-blocks Used Available Capacity Mounted on", then one line (which may wrap under -P: never).
  const dfLine = dfPart.trim().split('\n').slice(1).join(' ').trim().split(/\s+/);
  const total = Number(dfLine[1]);
  const free = Number(dfLine[3]);
  return {
    osName: osName || 'unknown',
    kernel,
    architecture,
    rootFreeBytes: Number.isFinite(free) ? free * 1024 : 0,
    rootTotalBytes: Number.isFinite(total) ? total * 1024 : 0,
  };
}

export async function readHostFacts(session: SshSession): Promise<LinuxHostFacts> {
  const result = await session.run(FACTS_COMMAND);
  if (result.code !== 0 && !result.stdout.includes(SEPARATOR)) {
    throw new ProbeError('CommandFailed', `Reading the host's OS and free space failed (exit code ${String(result.code)}): ${result.stderr.trim().slice(0, 200)}`);
  }
  return parseHostFacts(result.stdout);
}

export interface ElevationRequest {
  username: string;
  /** sudo (default) or su. */
  useSu: boolean;
  /** The account's own password, for sudo when NOPASSWD is not set. */
  password?: string;
  rootPassword?: string;
}

/** How root was reached, for the session log. */
export type ElevationOutcome = 'already root' | 'sudo without password' | 'sudo with the account password' | 'su with the root password';

function isRoot(output: string): boolean {
  return /(^|\n)0\s*$/.test(output.replace(/\r/g, '').trim());
}

/**
 * Checks that the account can become root the way its credentials say
 * (`sudo`, or `su` for distributions without sudo) by running `id -u` as root.
 * Passwords go to the command's input (sudo -S) or terminal (su), never into
 * the command line.
 */
export async function checkElevation(session: SshSession, request: ElevationRequest): Promise<ElevationOutcome> {
  const whoami = await session.run('id -u');
  if (isRoot(whoami.stdout)) return 'already root';
  if (request.useSu) {
    if (!request.rootPassword) throw new ProbeError('ElevationFailed', 'The credentials ask for su but hold no root password: set rootPassword on the credentials record.');
    let sent = false;
    const result = await session.run("su -c 'id -u' root", {
      pty: true,
      onOutput: (text, write) => {
        if (!sent && /password:\s*$/i.test(text)) {
          sent = true;
          write(`${request.rootPassword}\n`);
        }
      },
    });
    if (result.code === 0 && isRoot(result.stdout)) return 'su with the root password';
    if (/authentication failure|incorrect password|sorry/i.test(result.stdout + result.stderr)) {
      throw new ProbeError('ElevationFailed', 'su refused the root password (authentication failure).');
    }
    throw new ProbeError('ElevationFailed', `su did not give root (exit code ${String(result.code)}).`);
  }
  const quiet = await session.run('sudo -n id -u');
  if (quiet.code === 0 && isRoot(quiet.stdout)) return 'sudo without password';
  if (/not found/i.test(quiet.stderr) || quiet.code === 127) {
    throw new ProbeError('ElevationFailed', 'sudo is not installed on the host: install it, or set useSu on the credentials to use su.');
  }
  if (/password is required/i.test(quiet.stderr) && request.password) {
    const withPassword = await session.run("sudo -S -p '' id -u", { input: `${request.password}\n` });
    if (withPassword.code === 0 && isRoot(withPassword.stdout)) return 'sudo with the account password';
    throw new ProbeError('ElevationFailed', `sudo refused user "${request.username}": ${firstLine(withPassword.stderr) || 'no root'}.`);
  }
  throw new ProbeError('ElevationFailed', `sudo refused user "${request.username}": ${firstLine(quiet.stderr) || 'no root'}.`);
}

function firstLine(text: string): string {
  return (text.trim().split('\n')[0] ?? '').slice(0, 200);
}
