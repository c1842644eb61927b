import { useCallback, useEffect, useRef, useState } from 'react';
import { errorText } from './errors';

export interface Loaded<T> {
  data: T | undefined;
  loading: boolean;
  /** A readable message when the last load failed. */
  error: string | null;
  /** Loads again; `quiet` keeps the current data on screen without a loading state (live refreshes). */
  reload: (quiet?: boolean) => Promise<void>;
}

/**
 * Runs `load` now and whenever `deps` change; `reload` runs it again (after a change the section
 * made itself). A slower, older answer never overwrites a newer one.
 */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  const reload = useCallback(async (quiet = false) => {
    const mine = ++generation.current;
    if (!quiet) setLoading(true);
    try {
      const result = await run();
      if (mine !== generation.current) return;
      setData(result);
      setError(null);
    } catch (e) {
      if (mine === generation.current) setError(errorText(e));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, [run]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, loading, error, reload };
}
