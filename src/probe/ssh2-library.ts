import { createRequire } from 'node:module';

type Ssh2 = typeof import('ssh2');

const requireModule = createRequire(import.meta.url);
let loaded: Ssh2 | undefined;

/**
 * The ssh2 package, loaded at its first use rather than at start: loading it
 * instantiates a 16 MB WebAssembly heap (its poly1305), a tenth of an idle
 * server's memory, which a server that never talks SSH should not carry.
 */
export function ssh2(): Ssh2 {
  return (loaded ??= requireModule('ssh2') as Ssh2);
}
