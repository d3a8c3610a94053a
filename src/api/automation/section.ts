import type { ShapeByDocument } from '../../revisions/shapes.js';
import type { TObject } from 'typebox';
import type { SessionContext } from '../../sessions/runner.js';

/** One object of an import collection, where it sits, and how it is known. */
export interface ImportItem {
  /** JSON pointer into the collection, e.g. `/credentials/3`. */
  pointer: string;
  /** The element as it arrived (secrets of a sealed import restored into it). */
  raw: Record<string, unknown>;
  /** The section's duplicate rule applied to it (its name/tag identity). */
  identity: string;
  /** For the session log, e.g. `Linux credentials "root" (tag "lx-1")`. */
  label: string;
}

/** Lets a section ask whether a reference resolves to an object this import created or, in a dry run, would create. */
export interface ImportPlan {
  plannedIn(kind: string, identity: string): boolean;
}

/**
 * One kind of object that can be exported and imported. Each section maps the
 * documented collection to its own service's calls, so an import goes through the
 * same checks, sealing and sessions as adding by hand.
 */
export interface AutomationSection {
  /** Path segment under /api/v1/automation. */
  kind: string;
  /** Documented import order: credentials and passwords, managed servers, repositories, proxies. */
  order: number;
  /** Both are JSON objects (the filter, the collection), so handlers read them typed as records. */
  exportSchema: TObject;
  importSchema: TObject;
  /** How the export differs per Veeam document (see docs/revisions.md); as built when absent. */
  exportReply?: ShapeByDocument;
  /** Secret fields relative to an item (`password`, `linuxAdditionalSettings/privateKey`). */
  secretPaths: readonly string[];
  items(collection: Record<string, unknown>): ImportItem[];
  /** The collection for the filter; secrets filled in only when `withSecrets` (sealed export), else empty. */
  export(filter: Record<string, unknown>, withSecrets: boolean): Promise<Record<string, unknown>>;
  /** Identity → id of the objects already on this server. */
  existing(): Promise<Map<string, string>>;
  /** Missing references of an item, each named ("credentials \"root\" (tag …)"); empty when all resolve. */
  missingReferences?(item: ImportItem, plan: ImportPlan): Promise<string[]>;
  /** Creates the object (all or nothing); returns warnings for the log. */
  create(item: ImportItem, ctx: SessionContext): Promise<string[]>;
  /** Optional fast path for many creations at once; per item its warnings or what refused it (each still all or nothing). */
  createMany?(items: ImportItem[]): Promise<(string[] | Error)[]>;
  /** Replaces the existing object's settings with the item's (all or nothing); returns warnings. */
  overwrite(item: ImportItem, id: string, ctx: SessionContext): Promise<string[]>;
}

export function getAt(obj: Record<string, unknown>, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('/')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function setAt(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('/');
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    if (cur[part] === null || typeof cur[part] !== 'object') cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

/** Items of the named arrays of a collection, in order, with their pointers. */
export function arrayItems(
  collection: Record<string, unknown>,
  keys: readonly string[],
  describe: (raw: Record<string, unknown>, key: string) => { identity: string; label: string },
): ImportItem[] {
  const out: ImportItem[] = [];
  for (const key of keys) {
    const list = collection[key];
    if (!Array.isArray(list)) continue;
    list.forEach((raw: Record<string, unknown>, i) => out.push({ pointer: `/${key}/${i}`, raw, ...describe(raw, key) }));
  }
  return out;
}

/** `*` wildcards anywhere, case-insensitive, as the export filters' names document. */
export function wildcardMatcher(patterns: string[] | undefined): ((value: string) => boolean) | undefined {
  if (!patterns || patterns.length === 0) return undefined;
  const res = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .split('*')
          .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
        'i',
      ),
  );
  return (value) => res.some((re) => re.test(value));
}

export const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';
export const tagOf = (raw: Record<string, unknown>): string => {
  const t = nonEmpty(raw.uniqueId) ? raw.uniqueId : nonEmpty(raw.tag) ? raw.tag : '';
  return t;
};
