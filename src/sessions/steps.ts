import type { SessionContext } from './runner.js';

/**
 * One step of a session's work as one log record: written as "running" when it
 * starts, then marked Succeeded (with what it found) or Failed (with why).
 */
export async function logStep<T>(ctx: SessionContext, title: string, work: () => Promise<T>, describe?: (value: T) => string): Promise<T> {
  const record = await ctx.log(title, 'None');
  try {
    const value = await work();
    await ctx.updateLog(record, 'Succeeded', describe ? describe(value) : title);
    return value;
  } catch (err) {
    await ctx.updateLog(record, 'Failed', title, err instanceof Error ? err.message : String(err));
    throw err;
  }
}
