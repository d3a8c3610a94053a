import { useCallback, useEffect, useState } from 'preact/hooks';

/** A counter to bump when the data behind a view changed: effects that list it fetch again. */
export function useReload(): [number, () => void] {
  const [tick, setTick] = useState(0);
  return [tick, useCallback(() => setTick((n) => n + 1), [])];
}

/**
 * Loads data for a view. A failure is thrown while rendering, so the error boundary shows the
 * API's message instead of a blank page; `undefined` while the first answer is on its way.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): T | undefined {
  const [state, setState] = useState<{ value?: T; error?: unknown; done: boolean }>({ done: false });
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && setState({ value, done: true }),
      (error: unknown) => live && setState({ error, done: true }),
    );
    return () => {
      live = false;
    };
  }, deps);
  if (state.error !== undefined) throw state.error;
  return state.value;
}

/** Calls `tick` every `ms` while the view is shown. */
export function useInterval(tick: () => void, ms: number): void {
  useEffect(() => {
    const timer = setInterval(tick, ms);
    return () => clearInterval(timer);
  }, [ms]);
}
