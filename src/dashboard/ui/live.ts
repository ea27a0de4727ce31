// Live updates: one EventSource on /api/v1/events for the whole page (entity counts, executions, job
// changes), and one more per open execution page for that execution's log lines. EventSource reconnects by
// itself; `useConnected` tells the header whether the stream is up.
import { useEffect, useRef, useState } from "preact/hooks";

type Handler = (data: any) => void;
const handlers = new Map<string, Set<Handler>>();
const statusListeners = new Set<(up: boolean) => void>();
let source: EventSource | undefined;
let up = false;

const EVENTS = ["entity", "execution", "job"];

function connect(): void {
  if (source) return;
  source = new EventSource("/api/v1/events");
  source.onopen = () => setUp(true);
  source.onerror = () => setUp(false);
  for (const name of EVENTS)
    source.addEventListener(name, (e) => {
      const data = JSON.parse((e as MessageEvent).data);
      for (const h of handlers.get(name) ?? []) h(data);
    });
}

function setUp(value: boolean): void {
  up = value;
  for (const l of statusListeners) l(value);
}

/** Calls `handler` with each event of that name while the component is mounted. */
export function useLive(event: "entity" | "execution" | "job", handler: Handler): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    connect();
    const h: Handler = (d) => ref.current(d);
    let set = handlers.get(event);
    if (!set) handlers.set(event, (set = new Set()));
    set.add(h);
    return () => set!.delete(h);
  }, [event]);
}

export function useConnected(): boolean {
  const [value, setValue] = useState(up);
  useEffect(() => {
    connect();
    statusListeners.add(setValue);
    setValue(up);
    return () => void statusListeners.delete(setValue);
  }, []);
  return value;
}

export interface LogLine {
  id: number;
  time: number;
  kind: "console" | "system";
  job: string;
  execution?: string;
  replica?: string;
  container?: string;
  stream?: string;
  reason?: string;
  text: string;
}

/** An execution's log lines: those stored, then each new one as it is written. */
export function useExecutionLogs(job: string, execution: string): LogLine[] {
  const [lines, setLines] = useState<LogLine[]>([]);
  useEffect(() => {
    setLines([]);
    const params = new URLSearchParams({ job, execution });
    const es = new EventSource(`/api/v1/events?${params}`);
    let seen = 0;
    es.addEventListener("log", (e) => {
      const line = JSON.parse((e as MessageEvent).data) as LogLine;
      // after a reconnect the stream replays from the start: keep each line once
      if (line.id <= seen) return;
      seen = line.id;
      setLines((old) => [...old, line]);
    });
    return () => es.close();
  }, [job, execution]);
  return lines;
}
