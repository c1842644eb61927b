import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiClient } from './client';

type Listener = (data: never) => void;

/**
 * Subscribes to service events for the component's lifetime: `useEvents(client, 'tasks',
 * { created: fn, patched: fn })`. Handlers may change every render; the subscription does not.
 */
export function useEvents(client: ApiClient, path: string, handlers: Record<string, (data: any) => void>): void {
  const ref = useRef(handlers);
  ref.current = handlers;
  const events = Object.keys(handlers).sort().join(',');
  useEffect(() => {
    const svc = client.service(path) as unknown as { on(e: string, f: Listener): void; off(e: string, f: Listener): void };
    const bound = events.split(',').filter(Boolean).map((event) => [event, ((data: unknown) => ref.current[event]?.(data)) as Listener] as const);
    for (const [event, fn] of bound) svc.on(event, fn);
    return () => {
      for (const [event, fn] of bound) svc.off(event, fn);
    };
  }, [client, path, events]);
}

/** An async load with loading/error state and a reload(); stale answers are dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: unknown; loading: boolean; reload: () => void; set: (f: (t: T | undefined) => T | undefined) => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const reload = useCallback(() => {
    const mine = ++generation.current;
    setLoading(true);
    load().then(
      (value) => {
        if (mine !== generation.current) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (e) => {
        if (mine !== generation.current) return;
        setError(e);
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => reload(), [reload]);
  return { data, error, loading, reload, set: setData };
}

/** Upserts `row` into `rows` by id (new rows appended), or removes it. */
export function upsert<T extends { id: string | number }>(rows: T[] | undefined, row: T, remove = false): T[] {
  const list = rows ?? [];
  const at = list.findIndex((r) => r.id === row.id);
  if (remove) return at < 0 ? list : list.filter((r) => r.id !== row.id);
  if (at < 0) return [...list, row];
  const copy = [...list];
  copy[at] = row;
  return copy;
}

/**
 * Calls `fn` when the socket comes back after a drop: events sent meanwhile were missed, so
 * pages re-read what they show.
 */
export function useOnReconnect(client: ApiClient, fn: () => void): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const socket = client.io as { on(e: string, f: () => void): void; off(e: string, f: () => void): void };
    let dropped = false;
    const down = () => void (dropped = true);
    // Wait for the client's own re-authentication before reading again.
    const up = () => {
      if (dropped) setTimeout(() => ref.current(), 500);
      dropped = false;
    };
    socket.on('disconnect', down);
    socket.on('connect', up);
    return () => {
      socket.off('disconnect', down);
      socket.off('connect', up);
    };
  }, [client]);
}
