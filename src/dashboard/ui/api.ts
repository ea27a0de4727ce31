// The dashboard's only way to the server: the control API (/api/v1) the CLI uses, same origin, JSON.
// State-changing calls say Content-Type: application/json, which the server's request guard requires.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const enc = encodeURIComponent;

export async function api<T = any>(path: string, o: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(`/api/v1${path}`, {
    method: o.method ?? (o.body === undefined ? "GET" : "POST"),
    headers: o.body === undefined ? {} : { "content-type": "application/json" },
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const e = json?.error ?? {};
    const hint =
      res.status === 401 ? " (this server listens beyond loopback: use the CLI, or reach it through localhost)" : "";
    throw new ApiError(res.status, e.code ?? String(res.status), `${e.message ?? res.statusText}${hint}`);
  }
  return json as T;
}

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload(): void;
  set(update: (old: T | undefined) => T | undefined): void;
}

/** Loads `load()` when `key` changes; reload() loads again, keeping what is shown until the answer comes. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const latest = useRef(0);
  const run = useCallback(() => {
    const n = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => n === latest.current && setState({ data, loading: false }),
      (e: Error) => n === latest.current && setState((s) => ({ ...s, error: e.message, loading: false })),
    );
    // `key` names what `load` loads: a new closure for the same key is the same load
  }, [key]);
  useEffect(() => {
    setState({ loading: true });
    run();
  }, [run]);
  const set = useCallback((update: (old: T | undefined) => T | undefined) => {
    setState((s) => ({ ...s, data: update(s.data) }));
  }, []);
  return { ...state, reload: run, set };
}

/** Runs `fn` at most once per `ms`, the last call winning (for reloads triggered by bursts of events). */
export function throttle(fn: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let again = false;
  return () => {
    if (timer) {
      again = true;
      return;
    }
    fn();
    timer = setTimeout(function tick() {
      timer = undefined;
      if (again) {
        again = false;
        fn();
        timer = setTimeout(tick, ms);
      }
    }, ms);
  };
}
