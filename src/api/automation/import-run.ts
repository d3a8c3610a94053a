import { setImmediate as nextTurn } from 'node:timers/promises';
import type { LogStatus } from '../../sessions/model.js';
import type { SessionContext, SessionOutcome } from '../../sessions/runner.js';
import type { AutomationSection, ImportItem, ImportPlan } from './section.js';
import type { ConflictMode } from './schemas.js';

export interface ImportPart {
  section: AutomationSection;
  items: ImportItem[];
}

export interface ImportOptions {
  onConflict: ConflictMode;
  dryRun: boolean;
  /** Called as objects are done (the command line prints it). */
  onProgress?: (done: number, total: number) => void;
}

/** Progress is written at most this often: a database write per object would cost more than the object. */
const PROGRESS_EVERY_MS = 200;
/**
 * SQLite statements run synchronously, so an import would otherwise finish
 * inside one event-loop turn and starve every other request (including the
 * client polling this session). It yields this often.
 */
const YIELD_EVERY_MS = 20;
/** Creations a section with a fast path takes at once; a stop waits at most one batch. */
const BATCH = 200;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

type Counts = { created: number; overwritten: number; skipped: number; unresolved: number; failed: number; warnings: number };

/**
 * The import session's work: parts in the documented order, objects one by one
 * (creations of a section with a fast path in batches). A stop is honoured
 * between objects: what was done stays, the rest is listed in the log. A
 * stopped session ends Failed and canceled, like every stopped session.
 */
export async function runImport(ctx: SessionContext, parts: ImportPart[], options: ImportOptions): Promise<SessionOutcome> {
  const ordered = [...parts].sort((a, b) => a.section.order - b.section.order);
  const total = ordered.reduce((n, p) => n + p.items.length, 0);
  const verb = options.dryRun ? 'Dry run of the import' : 'Import';
  await ctx.log(`${verb} of ${total} object(s): ${ordered.map((p) => `${p.items.length} ${p.section.kind}`).join(', ')}; on conflict: ${options.onConflict}`);

  const existing = new Map<AutomationSection, Map<string, string>>();
  for (const p of ordered) existing.set(p.section, await p.section.existing());

  if (options.onConflict === 'fail') {
    const clashes = ordered.flatMap((p) => p.items.filter((i) => existing.get(p.section)!.has(i.identity)));
    if (clashes.length > 0) {
      await ctx.logMany(clashes.map((c) => ({ title: `${c.label} already exists`, status: 'Failed', description: `At ${c.pointer}.` })));
      return { result: 'Failed', message: `${clashes.length} object(s) already exist and onConflict is fail: nothing was imported.` };
    }
  }

  const planned = new Map<string, Set<string>>();
  const plan: ImportPlan = { plannedIn: (kind, identity) => planned.get(kind)?.has(identity) ?? false };
  const counts: Counts = { created: 0, overwritten: 0, skipped: 0, unresolved: 0, failed: 0, warnings: 0 };
  // Log records wait here and go in together: in order, one statement per batch.
  const pendingLog: { title: string; status: LogStatus; description?: string }[] = [];
  const log = (title: string, status: LogStatus, description?: string) => pendingLog.push({ title, status, description });
  const flushLog = async () => {
    if (pendingLog.length > 0) await ctx.logMany(pendingLog.splice(0));
  };
  let pendingCreates: ImportItem[] = [];
  let done = 0;
  let lastProgress = Date.now();
  let lastYield = Date.now();
  let notImported: ImportItem[] = [];

  const created = (item: ImportItem, warnings: string[], overwrote: boolean) => {
    if (overwrote) counts.overwritten++;
    else counts.created++;
    log(`${overwrote ? 'Overwrote' : 'Created'} ${item.label}`, 'Succeeded');
    for (const w of warnings) {
      counts.warnings++;
      log(`${item.label}: ${w}`, 'Warning');
    }
  };
  const failed = (item: ImportItem, err: unknown) => {
    counts.failed++;
    log(`Could not import ${item.label}`, 'Failed', errorText(err));
  };
  const advance = async (n: number) => {
    done += n;
    options.onProgress?.(done, total);
    const now = Date.now();
    if (now - lastYield >= YIELD_EVERY_MS) {
      await nextTurn();
      lastYield = Date.now();
    }
    if (now - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = now;
      await flushLog();
      await ctx.progress(total === 0 ? 100 : (done * 100) / total);
    }
  };
  const flushCreates = async (section: AutomationSection) => {
    if (pendingCreates.length === 0) return;
    const batch = pendingCreates;
    pendingCreates = [];
    const results = await section.createMany!(batch);
    results.forEach((r, i) => (r instanceof Error ? failed(batch[i]!, r) : created(batch[i]!, r, false)));
    await advance(batch.length);
  };

  for (const part of ordered) {
    const { section } = part;
    const mine = existing.get(section)!;
    const plannedHere = planned.get(section.kind) ?? new Set<string>();
    planned.set(section.kind, plannedHere);
    for (let i = 0; i < part.items.length; i++) {
      if (ctx.signal.aborted) {
        await flushCreates(section);
        notImported = [...part.items.slice(i), ...ordered.slice(ordered.indexOf(part) + 1).flatMap((p) => p.items)];
        break;
      }
      const item = part.items[i]!;
      try {
        const missing = (await section.missingReferences?.(item, plan)) ?? [];
        const id = mine.get(item.identity);
        const twice = plannedHere.has(item.identity);
        if (missing.length > 0) {
          counts.unresolved++;
          log(`Skipped ${item.label}: missing ${missing.join(', ')}`, 'Warning', `At ${item.pointer}. Import the missing object first, or fix the reference.`);
        } else if (twice || (id !== undefined && options.onConflict !== 'overwrite')) {
          counts.skipped++;
          log(`Skipped ${item.label}: ${twice ? 'it appears twice in this import' : 'it already exists'}`, 'Succeeded', `At ${item.pointer}.`);
        } else if (options.dryRun) {
          plannedHere.add(item.identity);
          if (id !== undefined) counts.overwritten++;
          else counts.created++;
          log(`Would ${id !== undefined ? 'overwrite' : 'create'} ${item.label}`, 'Succeeded');
        } else if (id === undefined && section.createMany) {
          plannedHere.add(item.identity);
          pendingCreates.push(item);
          if (pendingCreates.length >= BATCH) await flushCreates(section);
          continue;
        } else {
          // A section that logs its own steps (checks against the host) writes after what came before.
          await flushLog();
          const warnings = id !== undefined ? await section.overwrite(item, id, ctx) : await section.create(item, ctx);
          plannedHere.add(item.identity);
          created(item, warnings, id !== undefined);
        }
      } catch (err) {
        // Stopped while this object's checks ran: it was not imported (its work left nothing behind), like the ones after it.
        if (ctx.signal.aborted) {
          notImported = [...part.items.slice(i), ...ordered.slice(ordered.indexOf(part) + 1).flatMap((p) => p.items)];
          break;
        }
        failed(item, err);
      }
      await advance(1);
    }
    await flushCreates(section);
    if (notImported.length > 0) break;
  }

  const summary = options.dryRun
    ? `would create ${counts.created}, would overwrite ${counts.overwritten}, would skip ${counts.skipped}`
    : `created ${counts.created}, overwrote ${counts.overwritten}, skipped ${counts.skipped}`;
  const problems = [
    counts.unresolved > 0 ? `${counts.unresolved} skipped for missing references` : '',
    counts.failed > 0 ? `${counts.failed} failed` : '',
    counts.warnings > 0 ? `${counts.warnings} warning(s)` : '',
  ].filter(Boolean);
  if (notImported.length > 0) {
    log(`Stopped: ${notImported.length} object(s) were not imported`, 'Warning', notImported.map((i) => `${i.label} (${i.pointer})`).join('\n'));
    await flushLog();
    return { result: 'Warning', message: `Stopped after ${done} of ${total} object(s): ${summary}; ${notImported.length} not imported.` };
  }
  const message = `${options.dryRun ? 'Dry run, nothing changed: ' : ''}${summary}${problems.length ? `; ${problems.join(', ')}` : ''}.`;
  log(message, problems.length ? 'Warning' : 'Succeeded');
  await flushLog();
  if (counts.failed > 0 && counts.created + counts.overwritten === 0) return { result: 'Failed', message };
  return { result: problems.length ? 'Warning' : 'Success', message };
}
