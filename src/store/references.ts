import type { Executor } from './transaction.js';

/** A record that uses another one, named for the message that refuses a removal. */
export interface ReferencingRecord {
  /** What it is, in the API's words: "managed server", "repository", "backup job". */
  kind: string;
  id: string;
  name: string;
}

/** Finds the records that use `targetId`; runs inside the removal's transaction. */
export type ReferenceFinder = (db: Executor, targetId: string) => Promise<ReferencingRecord[]>;

/**
 * Who uses what. A section whose records point at credentials, cloud credentials
 * or encryption passwords registers a finder for that target kind here; removing
 * a target asks every finder first and is refused while anything answers.
 * Until such sections exist nothing is registered and removals go through.
 */
export class ReferenceRegistry {
  private readonly finders = new Map<string, ReferenceFinder[]>();

  /** Returns a function that unregisters the finder (tests, reloads). */
  register(targetKind: string, finder: ReferenceFinder): () => void {
    const list = this.finders.get(targetKind) ?? [];
    list.push(finder);
    this.finders.set(targetKind, list);
    return () => {
      const current = this.finders.get(targetKind) ?? [];
      this.finders.set(
        targetKind,
        current.filter((f) => f !== finder),
      );
    };
  }

  async usersOf(db: Executor, targetKind: string, targetId: string): Promise<ReferencingRecord[]> {
    const found: ReferencingRecord[] = [];
    for (const finder of this.finders.get(targetKind) ?? []) found.push(...(await finder(db, targetId)));
    return found;
  }
}

/** "managed server "linux01" (id …)" and "2 more": short enough for an error message. */
export function describeUsers(users: ReferencingRecord[], shown = 3): string {
  const named = users.slice(0, shown).map((u) => `${u.kind} "${u.name}" (${u.id})`);
  const more = users.length > shown ? ` and ${users.length - shown} more` : '';
  return named.join(', ') + more;
}
