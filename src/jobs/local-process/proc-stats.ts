// Accounting from /proc: the resident memory of a replica's whole process tree, for the memory limit.
import { existsSync, readdirSync, readFileSync } from "node:fs";

/** Resident memory (bytes) of a process and all its descendants. */
export function treeRssBytes(rootPid: number): number {
  let total = 0;
  const seen = new Set<number>();
  const queue = [rootPid];
  while (queue.length) {
    const pid = queue.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
      if (m) total += Number(m[1]) * 1024;
      queue.push(...childrenOf(pid));
    } catch {
      // the process ended between listing and reading
    }
  }
  return total;
}

let childrenFiles: boolean | undefined; // does this kernel have /proc/<pid>/task/<tid>/children?
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  if (childrenFiles !== false) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      return out; // gone
    }
    // a child forked by any thread is listed in that thread's children file
    for (const tid of tids) {
      let text: string;
      try {
        text = readFileSync(`/proc/${pid}/task/${tid}/children`, "latin1");
      } catch (e) {
        if (
          childrenFiles === undefined &&
          (e as NodeJS.ErrnoException).code === "ENOENT" &&
          existsSync(`/proc/${pid}/task/${tid}`)
        ) {
          childrenFiles = false;
          break;
        }
        continue;
      }
      childrenFiles = true;
      for (const c of text.split(" ")) if (c.trim()) out.push(Number(c));
    }
    if (childrenFiles !== false) return out;
  }
  // kernels without CONFIG_PROC_CHILDREN: scan /proc for the parent pid instead
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}
