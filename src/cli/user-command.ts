import { randomBytes } from 'node:crypto';
import type { RampartConfig } from '../config.js';
import { openStore } from '../store/database.js';
import { UserDirectory } from '../auth/users.js';
import { generatePassword } from '../auth/passwords.js';
import { isRole, ROLES } from '../auth/roles.js';
import { option, readPasswordFromStdin, type CliOutput } from './io.js';

const USAGE = `usage:
  rampart user list
  rampart user add NAME [--role Administrator|Operator|Viewer] [--password-stdin]
  rampart user passwd NAME [--password-stdin]
  rampart user role NAME Administrator|Operator|Viewer`;

/** `rampart user …`: works on the database directly, also while the server runs. */
export async function userCommand(args: string[], config: RampartConfig, out: CliOutput): Promise<number> {
  const [action, name, ...rest] = args;
  if (!action || !['list', 'add', 'passwd', 'role'].includes(action) || (action !== 'list' && !name)) {
    out.error(USAGE);
    return 2;
  }
  const store = await openStore(config.databaseUrl);
  try {
    const users = new UserDirectory(store);
    if (action === 'list') {
      for (const u of await users.list()) out.print(`${u.name}\t${u.role}\t${u.createdAt}`);
      return 0;
    }
    if (action === 'role') {
      const role = rest[0] ?? '';
      if (!isRole(role)) {
        out.error(`role must be one of ${ROLES.join(', ')}`);
        return 2;
      }
      await users.setRole(name!, role);
      out.print(`${name} now has the ${role} role; their open sessions were signed out.`);
      return 0;
    }
    const fromStdin = rest.includes('--password-stdin');
    const password = fromStdin ? await readPasswordFromStdin() : generatePassword(randomBytes);
    if (action === 'add') {
      const role = option(rest, '--role') ?? 'Viewer';
      if (!isRole(role)) {
        out.error(`--role must be one of ${ROLES.join(', ')}`);
        return 2;
      }
      await users.add(name!, role, password);
      out.print(`added ${name} (${role})`);
    } else {
      await users.setPassword(name!, password);
      out.print(`changed the password of ${name}; their open sessions were signed out.`);
    }
    if (!fromStdin) out.print(`password: ${password}`);
    return 0;
  } finally {
    await store.close();
  }
}
