// The dashboard's addresses: everything after `#`, so the server serves one page and a link is a bookmark.
import { useEffect, useState } from "preact/hooks";

const e = encodeURIComponent;

export const href = {
  overview: () => "#/",
  queue: (ns: string, q: string) => `#/servicebus/${e(ns)}/queues/${e(q)}`,
  topic: (ns: string, t: string) => `#/servicebus/${e(ns)}/topics/${e(t)}`,
  subscription: (ns: string, t: string, s: string) => `#/servicebus/${e(ns)}/topics/${e(t)}/subscriptions/${e(s)}`,
  job: (name: string) => `#/jobs/${e(name)}`,
  execution: (job: string, name: string) => `#/jobs/${e(job)}/executions/${e(name)}`,
};

export type Route =
  | { page: "overview" }
  | { page: "queue"; ns: string; queue: string }
  | { page: "topic"; ns: string; topic: string }
  | { page: "subscription"; ns: string; topic: string; sub: string }
  | { page: "job"; job: string }
  | { page: "execution"; job: string; execution: string }
  | { page: "missing"; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "") || "/";
  let parts: string[];
  try {
    parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    return { page: "missing", path };
  }
  const [a, b, c, d, f, g] = parts;
  if (parts.length === 0) return { page: "overview" };
  if (a === "servicebus" && c === "queues" && d && parts.length === 4) return { page: "queue", ns: b, queue: d };
  if (a === "servicebus" && c === "topics" && d && parts.length === 4) return { page: "topic", ns: b, topic: d };
  if (a === "servicebus" && c === "topics" && f === "subscriptions" && g && parts.length === 6)
    return { page: "subscription", ns: b, topic: d, sub: g };
  if (a === "jobs" && b && parts.length === 2) return { page: "job", job: b };
  if (a === "jobs" && c === "executions" && d && parts.length === 4) return { page: "execution", job: b, execution: d };
  return { page: "missing", path };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}
