/**
 * Writer locks: docs/repository-format.md §7, the grace window of GC.
 */
import { hostname } from 'node:os';
import type { BlobBackend } from './backend.js';
import { lockKey, LOCKS_PREFIX } from './layout.js';

export interface WriterLock {
  writerId: string;
  startedAt: string;
  host: string;
  pid: number;
  /** Restore points ("backup/object/rp") whose digests the writer reuses without asking the storage. */
  base: string[];
}

export async function takeWriterLock(backend: BlobBackend, writerId: string, base: string[]): Promise<WriterLock> {
  const lock: WriterLock = { writerId, startedAt: new Date().toISOString(), host: hostname(), pid: process.pid, base };
  await backend.put(lockKey(writerId), Buffer.from(`${JSON.stringify(lock)}\n`));
  return lock;
}

export async function releaseWriterLock(backend: BlobBackend, writerId: string): Promise<void> {
  await backend.delete(lockKey(writerId));
}

/** Every lock in the repository; unreadable ones count as started at their file's time (never ignored). */
export async function listWriterLocks(backend: BlobBackend): Promise<Array<WriterLock & { key: string; modifiedMs: number }>> {
  const locks: Array<WriterLock & { key: string; modifiedMs: number }> = [];
  for await (const blob of backend.list(LOCKS_PREFIX)) {
    if (!blob.key.endsWith('.json')) continue;
    let lock: Partial<WriterLock> = {};
    try {
      lock = JSON.parse((await backend.get(blob.key)).toString('utf8')) as WriterLock;
    } catch {
      // Gone since listed, or garbled: the file's own time still bounds the grace window.
    }
    const started = Date.parse(lock.startedAt ?? '');
    locks.push({
      writerId: lock.writerId ?? blob.key,
      startedAt: new Date(Number.isFinite(started) ? Math.min(started, blob.modifiedMs) : blob.modifiedMs).toISOString(),
      host: lock.host ?? '?',
      pid: lock.pid ?? 0,
      base: Array.isArray(lock.base) ? lock.base : [],
      key: blob.key,
      modifiedMs: blob.modifiedMs,
    });
  }
  return locks;
}
