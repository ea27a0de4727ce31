// Terraform expressions as hcl2json gives them: strings holding `${...}` templates. A string that is exactly one
// `${expr}` takes expr's value (any type); otherwise each `${expr}` is formatted into the string. expr is a
// literal or a reference (`var.x`, `local.x`, `azurerm_x.y.attr`, `data.x.y.attr`, `path.module`, with `[n]`
// and `["k"]` steps). Functions, operators and `for` expressions are refused with the expression named.
import { TerraformError } from "./load.js";

type Obj = Record<string, any>;
export type Resolve = (parts: Array<string | number>, expr: string) => unknown;

const WHOLE = /^\$\{([^{}]*)\}$/;
const PART = /(\$?)\$\{([^{}]*)\}/g;

function traversal(expr: string): Array<string | number> | undefined {
  const m = /^[A-Za-z_][\w-]*/.exec(expr);
  if (!m) return undefined;
  const parts: Array<string | number> = [m[0]];
  let rest = expr.slice(m[0].length);
  while (rest) {
    const step = /^\.([A-Za-z_][\w-]*)|^\[(\d+)\]|^\["([^"]*)"\]|^\.(\d+)/.exec(rest);
    if (!step) return undefined;
    parts.push(step[1] ?? step[3] ?? Number(step[2] ?? step[4]));
    rest = rest.slice(step[0].length);
  }
  return parts;
}

function evalExpr(raw: string, resolve: Resolve, at: string): unknown {
  const expr = raw.trim();
  if (/^-?\d+(\.\d+)?$/.test(expr)) return Number(expr);
  if (expr === "true" || expr === "false") return expr === "true";
  if (expr === "null") return null;
  if (/^"([^"\\]|\\.)*"$/.test(expr)) return JSON.parse(expr);
  const parts = traversal(expr);
  if (!parts)
    throw new TerraformError(
      `${at}: the expression \${${expr}} is not supported here (references, literals and string templates are; docs/terraform.md)`,
    );
  return resolve(parts, expr);
}

/** Evaluates every string in `value` (objects and lists recursively). */
export function evaluate(value: unknown, resolve: Resolve, at: string): unknown {
  if (typeof value === "string") {
    if (value.includes("%{")) throw new TerraformError(`${at}: template directives (%{...}) are not supported here`);
    const whole = WHOLE.exec(value);
    if (whole) return evalExpr(whole[1], resolve, at);
    return value.replace(PART, (m, escaped: string, expr: string) => {
      if (escaped) return m.slice(1);
      const v = evalExpr(expr, resolve, at);
      if (v !== null && typeof v === "object")
        throw new TerraformError(`${at}: \${${expr}} is not a string, number or bool and cannot go in a template`);
      return String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => evaluate(v, resolve, at));
  if (value && typeof value === "object") {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value)) out[k] = evaluate(v, resolve, at);
    return out;
  }
  return value;
}

/** The addresses (`azurerm_x.y`, `data.x.y`) an unevaluated value references. */
export function references(value: unknown): string[] {
  const out = new Set<string>();
  const walk = (v: unknown) => {
    if (typeof v === "string")
      for (const m of v.matchAll(/\$\{([^{}]*)\}/g)) {
        const p = traversal(m[1].trim());
        if (!p || typeof p[1] !== "string") continue;
        if (p[0] === "data" && typeof p[2] === "string") out.add(`data.${p[1]}.${p[2]}`);
        else if (!["var", "local", "path", "data", "self"].includes(String(p[0]))) out.add(`${p[0]}.${p[1]}`);
      }
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(value);
  return [...out];
}

/** Follows `[n]` / `.k` steps into a value. */
export function step(value: unknown, parts: Array<string | number>, expr: string, at: string): unknown {
  let v = value;
  for (const p of parts) {
    if (Array.isArray(v) && typeof p === "number") v = v[p];
    else if (Array.isArray(v) && v.length === 1 && typeof p === "string") v = (v[0] as Obj)?.[p];
    else if (v && typeof v === "object" && typeof p === "string" && p in (v as Obj)) v = (v as Obj)[p];
    else throw new TerraformError(`${at}: \${${expr}}: no attribute "${p}"`);
  }
  return v;
}
