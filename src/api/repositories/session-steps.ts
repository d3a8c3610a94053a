import type { SessionContext } from '../../sessions/runner.js';
import type { StepRunner } from '../../storage/steps.js';

/** Storage steps as session log records: one record a step, updated when it ends. */
export function sessionSteps(ctx: SessionContext): StepRunner {
  return {
    async step(title, work, done) {
      ctx.signal.throwIfAborted();
      const record = await ctx.log(title, 'None');
      try {
        const value = await work();
        await ctx.updateLog(record, 'Succeeded', done ? done(value) : title);
        return value;
      } catch (err) {
        await ctx.updateLog(record, 'Failed', title, err instanceof Error ? err.message : String(err));
        throw err;
      }
    },
    async note(title, warning) {
      await ctx.log(title, warning ? 'Warning' : 'Succeeded');
    },
  };
}
