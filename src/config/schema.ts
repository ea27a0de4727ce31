// The project file's JSON Schema (schema/eventjobs.schema.json, shipped for editors) applied to the
// position-carrying tree, so schema problems are reported like the hand-written checks: file:line:col,
// field path, value, what was expected. Supports the subset the schema uses: type, enum, properties,
// required, additionalProperties, items, pattern, minimum/maximum, minLength/maxLength, minItems, $ref.
import { readFileSync } from "node:fs";
import { at, Checker, SECRET_KEY, type SrcNode } from "../model/validate.js";

export type JsonSchema = Record<string, any>;

/** Where the schema lives in the package (two levels up from src/config and dist/config alike). */
export const SCHEMA_FILE = new URL("../../schema/eventjobs.schema.json", import.meta.url);

let cached: JsonSchema | undefined;
export function projectSchema(): JsonSchema {
  return (cached ??= JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as JsonSchema);
}

/** A schema with its `$ref` replaced by the referenced definition (sibling keywords win). */
export function deref(s: JsonSchema, root: JsonSchema = projectSchema()): JsonSchema {
  let out = s;
  for (let i = 0; out?.$ref && i < 20; i++) {
    const { $ref, ...rest } = out;
    const target = String($ref)
      .replace(/^#\//, "")
      .split("/")
      .reduce((o: any, k) => o?.[k], root);
    if (!target) throw new Error(`schema: unresolved $ref ${$ref}`);
    out = { ...target, ...rest };
  }
  return out;
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
  null: "nothing",
};

/** What a value must be, in words, from the schema (its `x-expected` when it has one). */
export function expectedText(s: JsonSchema): string {
  if (s["x-expected"]) return s["x-expected"];
  if (s.enum)
    return s.enum.length === 1
      ? JSON.stringify(s.enum[0])
      : `one of ${s.enum.map((v: unknown) => JSON.stringify(v)).join(", ")}`;
  const types: string[] = [].concat(s.type ?? []);
  let text = types.length ? types.map((t) => TYPE_NAMES[t] ?? t).join(" or ") : "a value";
  if (s.minimum !== undefined && s.maximum !== undefined) text += ` from ${s.minimum} to ${s.maximum}`;
  else if (s.minimum !== undefined) text += ` ≥ ${s.minimum}`;
  if (s.minItems) text += ` with at least ${s.minItems} item${s.minItems === 1 ? "" : "s"}`;
  if (s.type === "object" && s.required?.length) text += ` with ${s.required.join(", ")}`;
  if (s.minLength && s.type === "string") text = "a non-empty string";
  return text;
}

function typeMatches(node: SrcNode, t: string): boolean {
  if (node.kind === "map") return t === "object";
  if (node.kind === "seq") return t === "array";
  const v = node.value;
  if (v === null) return t === "null" || t === "object" || t === "array"; // `key:` with nothing reads as empty
  if (t === "integer") return typeof v === "number" && Number.isInteger(v);
  return typeof v === t;
}

/** Reports every way `node` departs from `schema` at `path`. */
export function checkSchema(c: Checker, node: SrcNode, schema: JsonSchema, path: string): void {
  const s = deref(schema);
  const secret = SECRET_KEY.test(path.split(/[.[]/).pop() ?? "") || /secrets\[\d+\]\.value$/.test(path);
  const bad = () => void c.bad(node, path, expectedText(s), secret);
  const types: string[] = [].concat(s.type ?? []);
  if (types.length && !types.some((t) => typeMatches(node, t))) return bad();
  if (node.kind === "scalar") {
    const v = node.value;
    if (s.enum && !s.enum.includes(v)) return bad();
    if (typeof v === "string") {
      if (s.pattern && !new RegExp(s.pattern).test(v)) return bad();
      if (
        (s.minLength !== undefined && v.length < s.minLength) ||
        (s.maxLength !== undefined && v.length > s.maxLength)
      )
        return bad();
    }
    if (
      typeof v === "number" &&
      ((s.minimum !== undefined && v < s.minimum) || (s.maximum !== undefined && v > s.maximum))
    )
      return bad();
    if (v !== null) return;
  }
  const items = node.kind === "seq" ? node.items : [];
  if (node.kind === "seq" || (types.includes("array") && !types.includes("object"))) {
    if (s.minItems !== undefined && items.length < s.minItems) return bad();
    if (s.items) items.forEach((item, i) => checkSchema(c, item, s.items, at(path, i)));
    return;
  }
  if (!types.includes("object") && !s.properties) return;
  const props: Record<string, JsonSchema> = s.properties ?? {};
  const closed = s.additionalProperties === false;
  const fields = closed
    ? c.fields(node, path, Object.keys(props))
    : c.fields(node, path, node.kind === "map" ? node.entries.map((e) => e.key) : []);
  if (!fields) return;
  for (const key of s.required ?? []) {
    if (!fields.has(key)) c.report(node.pos, at(path, key), "(missing)", expectedText(deref(props[key] ?? {})));
  }
  for (const [key, entry] of fields) {
    const sub = props[key] ?? (typeof s.additionalProperties === "object" ? s.additionalProperties : undefined);
    if (sub) checkSchema(c, entry.value, sub, at(path, key));
  }
}

/** Every key path the schema defines, e.g. `namespaces[].queues[].properties.lockDuration` (for drift tests). */
export function schemaKeyPaths(schema: JsonSchema = projectSchema()): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (s: JsonSchema, path: string, depth: number) => {
    const d = deref(s, schema);
    if (depth > 30) return;
    if (d.items) walk(d.items, `${path}[]`, depth + 1);
    if (d.properties) {
      out.set(path, Object.keys(d.properties));
      for (const [k, v] of Object.entries(d.properties)) walk(v as JsonSchema, path ? `${path}.${k}` : k, depth + 1);
    }
  };
  walk(schema, "", 0);
  return out;
}
