/**
 * Concurrent tasks per repository, as Veeam's `enableTaskLimit`/`maxTaskCount`
 * bound them: a run takes one slot of its repository for as long as it writes
 * (a run processes its VMs one at a time, so one run is one task). Runs over
 * the limit wait, in order, before opening the repository. The count is kept
 * by this process: with several nodes on PostgreSQL each node bounds its own runs.
 */
export class TaskSlots {
  private readonly busy = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  /**
   * Takes a slot of `key` (at most `limit` at once); `onWait` is told once when
   * the caller has to wait. An abort while waiting rejects (the run was stopped).
   */
  async acquire(key: string, limit: number, signal: AbortSignal, onWait: (running: number) => Promise<unknown>): Promise<() => void> {
    if ((this.busy.get(key) ?? 0) >= limit) {
      await onWait(this.busy.get(key) ?? 0);
      while ((this.busy.get(key) ?? 0) >= limit) {
        await new Promise<void>((resolve, reject) => {
          const queue = this.waiting.get(key) ?? [];
          const wake = () => {
            signal.removeEventListener('abort', stop);
            resolve();
          };
          const stop = () => {
            const at = queue.indexOf(wake);
            if (at >= 0) queue.splice(at, 1);
            reject(signal.reason instanceof Error ? signal.reason : new Error('The run was stopped while it waited for a task slot.'));
          };
          if (signal.aborted) return stop();
          signal.addEventListener('abort', stop, { once: true });
          queue.push(wake);
          this.waiting.set(key, queue);
        });
      }
    }
    this.busy.set(key, (this.busy.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.busy.get(key) ?? 1) - 1;
      if (left > 0) this.busy.set(key, left);
      else this.busy.delete(key);
      this.waiting.get(key)?.shift()?.();
    };
  }
}

/** The task limit a repository's settings set (RepositorySettings `repository.*`, object storage at the top level); undefined = none. */
export function repositoryTaskLimit(settings: Record<string, unknown>): number | undefined {
  const repo = (settings.repository ?? {}) as Record<string, unknown>;
  for (const s of [repo, settings]) {
    if (s.enableTaskLimit === true && typeof s.maxTaskCount === 'number' && s.maxTaskCount >= 1) return s.maxTaskCount;
  }
  return undefined;
}
