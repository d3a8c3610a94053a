/**
 * How a check reports its steps. The repository sessions pass one that writes
 * session log records; background measurements pass `silentSteps`.
 */
export interface StepRunner {
  /** Runs one step; its title is logged, then marked Succeeded (with `done`'s text) or Failed. */
  step<T>(title: string, work: () => Promise<T>, done?: (value: T) => string): Promise<T>;
  /** A line that is information only (what is not verified, what was skipped). */
  note(title: string, warning?: boolean): Promise<void>;
}

export const silentSteps: StepRunner = {
  step: (_title, work) => work(),
  note: async () => undefined,
};
