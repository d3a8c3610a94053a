import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * SQLite in WAL mode copies the log back into the database file (a checkpoint) from
 * inside whichever commit crosses `wal_autocheckpoint` pages, and a checkpoint ends
 * in fsync. With the default of 1,000 pages that put an fsync inside every hundredth
 * or so credentials add, on the event loop: measured, checkpoints were most of the
 * cost of a commit. So the server's connection checkpoints only as a safety net
 * (AUTOCHECKPOINT_PAGES), and a worker thread with its own connection runs passive
 * checkpoints every second. A passive checkpoint never waits for, nor blocks, the
 * server's readers and writer; durability is unchanged (a commit is in the WAL
 * either way; synchronous=NORMAL as before).
 */
export const AUTOCHECKPOINT_PAGES = 10_000;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 0');
const checkpoint = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy or closing: the next tick tries again */ }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(file: string, intervalMs = 1000): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, intervalMs } });
  // A checkpointer that fails leaves the connection's own autocheckpoint in charge.
  worker.on('error', () => undefined);
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      worker.postMessage('stop');
      const timeout = setTimeout(() => void worker.terminate(), 2000);
      await exited;
      clearTimeout(timeout);
    },
  };
}
