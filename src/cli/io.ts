import { ApiError } from '../http/errors.js';
import { VaultError } from '../vault/errors.js';

export interface CliOutput {
  print(line: string): void;
  error(line: string): void;
}

export const consoleOutput: CliOutput = {
  print: (line) => process.stdout.write(line + '\n'),
  error: (line) => process.stderr.write(line + '\n'),
};

export function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  const inline = args.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

/** Reads a password from standard input (first line), so it never shows in `ps` or shell history. */
export async function readPasswordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

/**
 * Runs a store-backed command: a mistake the user can fix (an ApiError or VaultError,
 * whose message is written for people) is printed and exits 1; anything else is a bug
 * and is thrown; the store is closed either way.
 */
export async function reportingUserErrors(out: CliOutput, close: () => Promise<void>, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ApiError || err instanceof VaultError) {
      out.error(err.message);
      return 1;
    }
    throw err;
  } finally {
    await close();
  }
}
