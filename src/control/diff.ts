// Plan: what apply would change, resource by resource, with every changed field; secrets masked.
import { describe, isSensitive, KINDS, resourceKey, type Kind, type Resource } from "./resources.js";
import { SENSITIVE } from "./secrets.js";

export type Action = "create" | "update" | "delete";

export interface FieldChange {
  path: string;
  /** absent: the field is new; "(sensitive)" for secrets */
  before?: unknown;
  /** absent: the field goes away */
  after?: unknown;
}

export interface Change {
  action: Action;
  kind: Kind;
  id: string;
  /** e.g. `queue servicebus-ns-job/queue-messages` */
  title: string;
  fields: FieldChange[];
  /** why, when it is not a field (e.g. a referenced key changed) */
  note?: string;
}

export interface Plan {
  source?: string;
  changes: Change[];
  unchanged: number;
}

export { SENSITIVE };
const mask = (path: string, v: unknown) => (v === undefined ? undefined : isSensitive(path, v) ? SENSITIVE : v);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Field by field; `partial` compares only the fields `desired` has (ids a file may leave to the platform). */
export function fieldChanges(
  desired: Record<string, unknown>,
  live: Record<string, unknown> | undefined,
  partial = false,
): FieldChange[] {
  const out: FieldChange[] = [];
  const keys = new Set([...Object.keys(desired), ...(partial || !live ? [] : Object.keys(live))]);
  for (const path of [...keys].sort()) {
    const before = live?.[path];
    const after = desired[path];
    if (live && same(before, after)) continue;
    const c: FieldChange = { path };
    if (before !== undefined && live) c.before = mask(path, before);
    if (after !== undefined) c.after = mask(path, after);
    out.push(c);
  }
  return out;
}

/**
 * Desired vs running. `live(r)` reads what runs now; `owned` are the resources the project created before
 * (deleting one from the file deletes it); `partialKinds` compare only the fields the file gives.
 */
export function diff(
  desired: Resource[],
  live: (r: { kind: Kind; id: string }) => Resource | undefined,
  owned: Array<{ kind: Kind; id: string }>,
  partialKinds: Kind[] = ["identity"],
): Plan {
  const changes: Change[] = [];
  let unchanged = 0;
  const wanted = new Set(desired.map(resourceKey));
  for (const r of desired) {
    const now = live(r);
    const fields = fieldChanges(r.fields, now?.fields, partialKinds.includes(r.kind));
    if (!now) changes.push({ action: "create", kind: r.kind, id: r.id, title: describe(r), fields });
    else if (fields.length) changes.push({ action: "update", kind: r.kind, id: now.id, title: describe(now), fields });
    else unchanged++;
  }
  for (const o of owned) {
    if (wanted.has(resourceKey(o))) continue;
    const now = live(o);
    if (now) changes.push({ action: "delete", kind: o.kind, id: now.id, title: describe(now), fields: [] });
  }
  return { changes: order(changes), unchanged };
}

/** Creates and updates parents first; deletes children first. */
export function order(changes: Change[]): Change[] {
  const rank = (c: Change) => (c.action === "delete" ? 100 - KINDS.indexOf(c.kind) : KINDS.indexOf(c.kind));
  return changes
    .map((c, i) => [c, i] as const)
    .sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1])
    .map(([c]) => c);
}

const show = (v: unknown) => (v === SENSITIVE ? SENSITIVE : JSON.stringify(v));
const SIGN: Record<Action, string> = { create: "+", update: "~", delete: "-" };

/** The plan as terraform-like text: one block per resource, one line per changed field. */
export function formatPlan(plan: Plan): string[] {
  const lines: string[] = [];
  for (const c of plan.changes) {
    lines.push(`  ${SIGN[c.action]} ${c.title}${c.note ? ` (${c.note})` : ""}`);
    for (const f of c.fields) {
      if (c.action === "create") lines.push(`      ${f.path}: ${show(f.after)}`);
      else if (f.before === undefined) lines.push(`      + ${f.path}: ${show(f.after)}`);
      else if (f.after === undefined) lines.push(`      - ${f.path}: ${show(f.before)}`);
      else lines.push(`      ~ ${f.path}: ${show(f.before)} → ${show(f.after)}`);
    }
  }
  lines.push(summary(plan));
  return lines;
}

export function summary(plan: Plan): string {
  if (!plan.changes.length) return "No changes.";
  const n = (a: Action) => plan.changes.filter((c) => c.action === a).length;
  return `Plan: ${n("create")} to create, ${n("update")} to update, ${n("delete")} to delete.`;
}
