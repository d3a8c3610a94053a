import type { RampartConfig } from '../config.js';
import { openStore } from '../store/database.js';
import { MasterKeyring } from '../vault/master-keyring.js';
import { rotateMasterKey } from '../vault/rotation.js';
import { option, reportingUserErrors, type CliOutput } from './io.js';

const USAGE = `usage:
  rampart rotate-master-key [--batch-size N]

Makes a new master key current in <dataDir>/master.key and re-seals every secret
under it, then retires the old key. Safe while the server runs (it picks up the
new key within a second); safe to interrupt (run it again to finish).
With RAMPART_MASTER_KEY, put the new key first in the list, restart the server,
then run this to re-seal under it.`;

/** `rampart rotate-master-key`: works on the database and the data folder directly. */
export async function rotateMasterKeyCommand(args: string[], config: RampartConfig, out: CliOutput): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    out.print(USAGE);
    return 0;
  }
  const batchSize = Number(option(args, '--batch-size') ?? 100);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    out.error('--batch-size must be a whole number from 1 to 10000');
    return 2;
  }
  const store = await openStore(config.databaseUrl);
  return reportingUserErrors(
    out,
    () => store.close(),
    async () => {
      const keyring = MasterKeyring.open(config.dataDir, config.masterKey);
      out.print(`master key ${keyring.currentKeyId} is current (${keyring.source === 'file' ? keyring.file : 'RAMPART_MASTER_KEY'})`);
      let shown = -1;
      const report = await rotateMasterKey(store, keyring, config.dataDir, {
        batchSize,
        // Longer than a running server's 500 ms re-check of the key file.
        settleMs: 2000,
        onProgress: (done, total) => {
          const percent = total === 0 ? 100 : Math.floor((done * 100) / total);
          if (percent >= shown + 10 || done === total) {
            shown = percent;
            out.print(`re-sealed ${done}/${total}`);
          }
        },
      });
      out.print(`master key ${report.currentKeyId} is now current; re-sealed ${report.resealed} secret(s)`);
      if (report.retiredKeyIds.length > 0) out.print(`retired master key(s): ${report.retiredKeyIds.join(', ')}`);
      for (const f of report.failed) out.error(`did not open, left as it was: ${f.ownerKind} ${f.ownerId} ${f.field}: ${f.reason}`);
      if (report.keptKeyIds.length > 0) {
        out.error(
          `still holding master key(s) ${report.keptKeyIds.join(', ')}${keyring.source === 'environment' ? ': remove them from RAMPART_MASTER_KEY once no secret needs them' : ''}`,
        );
      }
      return report.failed.length > 0 ? 1 : 0;
    },
  );
}
