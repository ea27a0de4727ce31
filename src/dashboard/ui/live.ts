// Live updates: one EventSource on /api/v1/events per tab (entity counts, executions, job changes, and on an
// execution page that execution's log lines). One, because a browser keeps at most six HTTP/1.1 connections to a
// server across all its tabs, and a stream holds one for good; for the same reason a hidden tab closes it.
// When the stream comes back after a gap (a hidden tab shown again, a server restart), events were missed:
// pages get a `resync` and load again.
import { useEffect, useRef, useState } from "preact/hooks";

type Handler = (data: any) => void;
type LiveEvent = "entity" | "execution" | "job" | "log" | "resync";
const handlers = new Map<string, Set<Handler>>();
const statusListeners = new Set<(up: boolean) => void>();
let source: EventSource | undefined;
let logsOf: { job: string; execution: string } | undefined;
let up = false;
/** whether events may have been missed since the stream was last open */
let gap = false;

function emit(name: string, data: unknown): void {
  for (const h of handlers.get(name) ?? []) h(data);
}

function setUp(value: boolean): void {
  up = value;
  for (const l of statusListeners) l(value);
}

function open(): void {
  source?.close();
  const es = new EventSource(`/api/v1/events${logsOf ? `?${new URLSearchParams(logsOf)}` : ""}`);
  source = es;
  es.onopen = () => {
    setUp(true);
    if (gap) emit("resync", {});
    gap = false;
  };
  es.onerror = () => {
    gap = true;
    setUp(false);
  };
  for (const name of ["entity", "execution", "job", "log"])
    es.addEventListener(name, (e) => emit(name, JSON.parse((e as MessageEvent).data)));
}

function close(): void {
  source?.close();
  source = undefined;
  gap = true;
  setUp(false);
}

function ensure(): void {
  if (!source && document.visibilityState !== "hidden") open();
}

document.addEventListener("visibilitychange", () => (document.visibilityState === "hidden" ? close() : ensure()));

/** Calls `handler` with each event of that name while the component is mounted. */
export function useLive(event: LiveEvent, handler: Handler): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    ensure();
    const h: Handler = (d) => ref.current(d);
    let set = handlers.get(event);
    if (!set) handlers.set(event, (set = new Set()));
    set.add(h);
    return () => void set!.delete(h);
  }, [event]);
}

export function useConnected(): boolean {
  const [value, setValue] = useState(up);
  useEffect(() => {
    ensure();
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
  const seen = useRef(0);
  useLive("log", (line: LogLine) => {
    // every (re)connection replays the execution's lines from the start: keep each once
    if (line.job !== job || line.execution !== execution || line.id <= seen.current) return;
    seen.current = line.id;
    setLines((old) => [...old, line]);
  });
  useEffect(() => {
    setLines([]);
    seen.current = 0;
    logsOf = { job, execution };
    gap = true; // the execution may have changed while the stream was switched over
    open();
    return () => {
      logsOf = undefined;
      // the page that follows loads its data now; what the switch might miss, a resync catches up on
      gap = true;
      if (document.visibilityState !== "hidden") open();
    };
  }, [job, execution]);
  return lines;
}
