// A small validator for the OpenAPI v3 subset Kubernetes CRDs use (structural schemas): type, properties,
// required, items, enum, additionalProperties, anyOf, minimum/maximum, minItems, minLength, pattern,
// format int32/int64, x-kubernetes-int-or-string and x-kubernetes-preserve-unknown-fields; other
// x-kubernetes-* markers only guide the API server's merging and are ignored. Unknown fields are errors,
// as with `kubectl apply --validate=strict`, so a misspelt field fails the test instead of being pruned.
import { readFileSync } from "node:fs";
import { parse } from "yaml";

export type Schema = Record<string, any>;

/** The openAPIV3Schema of a CRD file's first version. */
export function crdSchema(url: URL): Schema {
  const crd = parse(readFileSync(url, "utf8"));
  return crd.spec.versions[0].schema.openAPIV3Schema;
}

const typeOf = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v;

/** Every problem, each as `path: message`; empty when the value conforms. */
export function validate(schema: Schema, value: unknown, path = "$"): string[] {
  if (schema["x-kubernetes-int-or-string"]) {
    if (typeof value !== "string" && !Number.isInteger(value))
      return [`${path}: expected an integer or a string, got ${typeOf(value)}`];
    return typeof value === "string" && schema.pattern && !new RegExp(schema.pattern).test(value)
      ? [`${path}: "${value}" does not match ${schema.pattern}`]
      : [];
  }
  if (schema.anyOf) {
    const results = (schema.anyOf as Schema[]).map((s) => validate({ ...schema, anyOf: undefined, ...s }, value, path));
    if (!results.some((r) => r.length === 0))
      return [`${path}: matches none of anyOf (${results.map((r) => r[0]).join("; ")})`];
  }
  const errors: string[] = [];
  const t = typeOf(value);
  if (schema.type) {
    const ok = schema.type === t || (schema.type === "number" && t === "integer");
    if (!ok) return [`${path}: expected ${schema.type}, got ${t}`];
  }
  if (schema.enum && !schema.enum.includes(value))
    errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum)
      errors.push(`${path}: ${value} < minimum ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum)
      errors.push(`${path}: ${value} > maximum ${schema.maximum}`);
    if (schema.format === "int32" && (value < -(2 ** 31) || value >= 2 ** 31))
      errors.push(`${path}: ${value} is not an int32`);
  }
  if (typeof value === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      errors.push(`${path}: shorter than ${schema.minLength}`);
    if (schema.pattern && !new RegExp(schema.pattern).test(value))
      errors.push(`${path}: "${value}" does not match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      errors.push(`${path}: fewer than ${schema.minItems} items`);
    if (schema.items) value.forEach((v, i) => errors.push(...validate(schema.items, v, `${path}[${i}]`)));
  }
  if (t === "object") {
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in obj)) errors.push(`${path}: missing required field ${r}`);
    const props: Record<string, Schema> = schema.properties ?? {};
    const extra = schema.additionalProperties;
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) errors.push(...validate(props[k], v, `${path}.${k}`));
      else if (typeof extra === "object") errors.push(...validate(extra, v, `${path}.${k}`));
      else if (
        extra === false ||
        (schema.properties && extra === undefined && !schema["x-kubernetes-preserve-unknown-fields"])
      ) {
        errors.push(`${path}: unknown field ${k}`);
      }
    }
  }
  return errors;
}
