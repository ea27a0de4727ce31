// Terraform-shaped plans: per resource address, create / update / delete against what the last apply recorded
// (terraform-state.json) and against the running server (a project resource that drifted is an update), printed as
// Terraform prints them, secrets as (sensitive value).
import type { TfState } from "./state.js";
import { hashOf } from "./state.js";
import type { Translation } from "./translate.js";

type Obj = Record<string, any>;
export type Action = "create" | "update" | "delete";
export interface TfChange {
  action: Action;
  address: string;
  type: string;
  name: string;
  before?: Obj;
  after?: Obj;
  reason?: string;
}

/** `kind:id` of the server plan's changes (lower case). */
export function tfChanges(t: Translation, state: TfState, serverChanged: Set<string>): TfChange[] {
  const out: TfChange[] = [];
  const split = (address: string) => address.split(".").slice(-2);
  for (const r of t.resources) {
    const prev = state.resources[r.address];
    const [type, name] = split(r.address);
    if (!prev) out.push({ action: "create", address: r.address, type, name, after: r.args });
    else if (prev.hash !== hashOf(r.args))
      out.push({ action: "update", address: r.address, type, name, before: prev.args, after: r.args });
    else if (r.owns.some((k) => serverChanged.has(k.toLowerCase())))
      out.push({
        action: "update",
        address: r.address,
        type,
        name,
        before: prev.args,
        after: r.args,
        reason: "it changed on the server outside of Terraform",
      });
  }
  for (const [address, prev] of Object.entries(state.resources))
    if (!t.resources.some((r) => r.address === address)) {
      const [type, name] = split(address);
      out.push({ action: "delete", address, type, name, before: prev.args });
    }
  return out;
}

export const summaryLine = (c: TfChange[]) =>
  `Plan: ${c.filter((x) => x.action === "create").length} to add, ${c.filter((x) => x.action === "update").length} to change, ${c.filter((x) => x.action === "delete").length} to destroy.`;

const SECRET_KEY = /(password|(^|_)key$|_key_|connection_string|token|client_secret)/i;
const KNOWN_AFTER = /\$\{(identity|servicebus)\.[^.}]+\.\w+\}/;

export function isSecretValue(key: string, v: unknown): boolean {
  return (
    SECRET_KEY.test(key) ||
    (typeof v === "string" && (/\.connectionString\}/.test(v) || /SharedAccessKey=|^ey[\w-]+\.ey/.test(v)))
  );
}

/** Every value masked where a secret is: the `secret` blocks, secret-named keys, connection strings. */
export function masked(key: string, v: unknown): unknown {
  if (key === "secret" && Array.isArray(v))
    return v.map((s: Obj) => ({ ...s, ...(s.value !== undefined ? { value: "(sensitive value)" } : {}) }));
  if (isSecretValue(key, v) && (typeof v === "string" || typeof v === "number")) return "(sensitive value)";
  if (typeof v === "string" && KNOWN_AFTER.test(v)) return "(known after apply)";
  if (Array.isArray(v)) return v.map((x) => masked(key, x));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, masked(k, x)]));
  return v;
}

const lit = (v: unknown) => (v === "(sensitive value)" || v === "(known after apply)" ? v : JSON.stringify(v));

function render(obj: Obj, sign: string, indent: string, lines: string[]): void {
  const keys = Object.keys(obj).sort();
  const width = Math.max(0, ...keys.filter((k) => !isBlockList(obj[k])).map((k) => k.length));
  for (const k of keys) {
    const v = masked(k, obj[k]);
    if (isBlockList(v))
      for (const b of v as Obj[]) {
        lines.push(`${indent}${sign} ${k} {`);
        render(b, sign, indent + "    ", lines);
        lines.push(`${indent}  }`);
      }
    else if (v && typeof v === "object" && !Array.isArray(v)) {
      lines.push(`${indent}${sign} ${k.padEnd(width)} = {`);
      for (const [mk, mv] of Object.entries(v)) lines.push(`${indent}    ${sign} ${JSON.stringify(mk)} = ${lit(mv)}`);
      lines.push(`${indent}  }`);
    } else lines.push(`${indent}${sign} ${k.padEnd(width)} = ${Array.isArray(v) ? JSON.stringify(v) : lit(v)}`);
  }
}
const isBlockList = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((x) => x && typeof x === "object");

const HEAD = { create: "will be created", update: "will be updated in-place", delete: "will be destroyed" };
const SIGN = { create: "+", update: "~", delete: "-" };

export function formatTfPlan(changes: TfChange[], notes: Map<string, string>): string[] {
  if (!changes.length) return ["No changes. Your infrastructure matches the configuration."];
  const lines = ["eventjobs will perform the following actions:", ""];
  for (const c of changes) {
    lines.push(`  # ${c.address} ${HEAD[c.action]}${c.reason ? ` (${c.reason})` : ""}`);
    const note = notes.get(c.address);
    if (note) lines.push(`  # eventjobs: ${note}`);
    lines.push(`  ${SIGN[c.action]} resource "${c.type}" "${c.name}" {`);
    if (c.action === "update") {
      const before = c.before ?? {};
      const after = c.after ?? {};
      for (const k of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
        if (JSON.stringify(before[k]) === JSON.stringify(after[k])) continue;
        const show = (v: unknown) => (v === undefined ? "null" : lit(masked(k, v)));
        lines.push(`      ~ ${k} = ${show(before[k])} -> ${show(after[k])}`);
      }
    } else render((c.action === "create" ? c.after : c.before) ?? {}, SIGN[c.action], "      ", lines);
    lines.push("    }", "");
  }
  lines.push(summaryLine(changes));
  return lines;
}
