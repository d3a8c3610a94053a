import { badRequest } from './errors.js';

/**
 * Reads a field that 1.2 renamed (tag → uniqueId, autoElevated → elevateToRoot):
 * either spelling is accepted. When both come with different values, an edit
 * takes the one that differs from the stored value (a client that read the
 * model, with both spellings, and changed the one it knows); otherwise it is a 400.
 */
export function renamedField<T>(body: Record<string, unknown>, oldName: string, newName: string, stored?: T): T | undefined {
  const a = body[oldName];
  const b = body[newName];
  const has = (v: unknown) => v !== undefined && v !== null;
  if (has(a) && has(b) && a !== b) {
    if (stored !== undefined && a === stored) return b as T;
    if (stored !== undefined && b === stored) return a as T;
    throw badRequest(`"${oldName}" and "${newName}" are the 1.1 and 1.2 names of one field; send one, or the same value in both.`);
  }
  return (has(b) ? b : has(a) ? a : undefined) as T | undefined;
}
