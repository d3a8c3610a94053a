import { Fragment, h, type ComponentChildren, type VNode } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';

/** A counter to bump when the data behind a view changed: effects that list it fetch again. */
export function useReload(): [number, () => void] {
  const [tick, setTick] = useState(0);
  return [tick, useCallback(() => setTick((n) => n + 1), [])];
}

/**
 * Loads data for a view. A failure is thrown while rendering, so the error boundary shows the
 * API's message instead of a blank page; `undefined` while the first answer is on its way.
 * With `keepOnRefreshError`, a failed refresh of a polling view keeps what it showed (a blip of
 * the network does not replace the dashboard with an error).
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], keepOnRefreshError = false): T | undefined {
  const [state, setState] = useState<{ value?: T; error?: unknown; done: boolean }>({ done: false });
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && setState({ value, done: true }),
      (error: unknown) => live && setState((current) => (keepOnRefreshError && current.value !== undefined ? current : { error, done: true })),
    );
    return () => {
      live = false;
    };
  }, deps);
  if (state.error !== undefined) throw state.error;
  return state.value;
}

/** Calls `tick` every `ms` (0: never) while the view is shown. */
export function useInterval(tick: () => void, ms: number): void {
  useEffect(() => {
    if (!ms) return undefined;
    const timer = setInterval(tick, ms);
    return () => clearInterval(timer);
  }, [ms]);
}

/**
 * Draws what `load` answers with `draw`; `reload` fetches again and redraws. For parts of a
 * view (a dialog's table, a status card) that refresh on their own.
 */
export function Loaded<T>(props: { load: () => Promise<T>; draw: (data: T, reload: () => void) => ComponentChildren }): VNode | null {
  const [tick, reload] = useReload();
  const data = useLoad(props.load, [tick]);
  return data === undefined ? null : h(Fragment, null, props.draw(data, reload));
}
