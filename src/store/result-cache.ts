/**
 * A small cache of query results, keyed by the query and tagged with a generation
 * number that the writer bumps on every change, so a local write is never served
 * stale. Entries also expire after `ttlMs`, which bounds staleness for writes made by
 * other processes (another node, the admin command line) that cannot bump it.
 */
export class ResultCache<T> {
  private readonly entries = new Map<string, { value: T; generation: number; storedAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 500,
  ) {}

  get(key: string, generation: number, now = Date.now()): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.generation !== generation || now - entry.storedAt > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, generation: number, value: T, now = Date.now()): void {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, generation, storedAt: now });
  }
}
