// HCL for the Terraform export: identifiers, string literals, and blocks with attributes, nested blocks,
// lists and maps.

/** A Terraform identifier from names: lowercase letters, digits and underscores. */
export function label(...parts: string[]): string {
  const s = parts
    .join("_")
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/_+/g, "_")
    .replace(/^_|_$/g, "");
  return /^[a-z_]/.test(s) ? s : `r_${s}`;
}

/** An HCL string literal; `${` and `%{` in literal text are escaped so Terraform does not interpolate them. */
export function hcl(s: string): string {
  return `"${s
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r")
    .replace(/\t/g, "\\t")
    .replace(/\$\{/g, () => "$${")
    .replace(/%\{/g, "%%{")}"`;
}

export type Value = string | number | boolean | { expr: string };
export type Body = [string, Value | Body | Value[] | Record<string, Value>][];
export const expr = (e: string) => ({ expr: e });

function render(v: Value): string {
  if (typeof v === "object") return v.expr;
  return typeof v === "string" ? hcl(v) : String(v);
}

/** Renders a block body; nested bodies become blocks, arrays lists, records maps. */
export function block(head: string, body: Body, indent = ""): string {
  const inner = indent + "  ";
  const isBlock = (v: unknown) => Array.isArray(v) && v.length > 0 && Array.isArray(v[0]);
  // `terraform fmt` aligns the `=` of consecutive attributes only: a nested block starts a new run
  const widths = body.map((_, i) => {
    if (isBlock(body[i][1])) return 0;
    let a = i;
    let b = i;
    while (a > 0 && !isBlock(body[a - 1][1])) a--;
    while (b < body.length - 1 && !isBlock(body[b + 1][1])) b++;
    return Math.max(...body.slice(a, b + 1).map(([k]) => k.length));
  });
  const lines = body.map(([k, v], i) => {
    const width = widths[i];
    if (Array.isArray(v) && v.length > 0 && Array.isArray(v[0])) return block(k, v as Body, inner);
    if (Array.isArray(v)) return `${inner}${k.padEnd(width)} = [${(v as Value[]).map(render).join(", ")}]`;
    if (typeof v === "object" && !("expr" in v)) {
      const entries = Object.entries(v as Record<string, Value>).map(([mk, mv]) => `${hcl(mk)} = ${render(mv)}`);
      return `${inner}${k.padEnd(width)} = { ${entries.join(", ")} }`;
    }
    return `${inner}${k.padEnd(width)} = ${render(v as Value)}`;
  });
  return `${indent}${head} {\n${lines.join("\n")}\n${indent}}`;
}
