// Shared by the YAML and JSON loaders: a position-carrying tree both parsers produce, and a checker that
// collects every problem (so a user fixes a file in one pass) instead of stopping at the first.
import { ConfigError, type ConfigIssue } from "./config.js";
import { formatDuration, parseDuration, TIMESPAN_MAX_MS } from "./duration.js";

export interface Pos {
  line?: number;
  col?: number;
}
export type Scalar = string | number | boolean | null;
export interface MapEntry {
  key: string;
  keyPos: Pos;
  value: SrcNode;
}
export type SrcNode =
  | { kind: "map"; pos: Pos; entries: MapEntry[] }
  | { kind: "seq"; pos: Pos; items: SrcNode[] }
  | { kind: "scalar"; pos: Pos; value: Scalar };

/** Keys whose values are never echoed back in an error. */
export const SECRET_KEY = /key|secret|password|token|connectionstring/i;

export function toJS(node: SrcNode, redact = false): unknown {
  if (node.kind === "scalar") return node.value;
  if (node.kind === "seq") return node.items.map((n) => toJS(n, redact));
  const out: Record<string, unknown> = {};
  for (const e of node.entries) out[e.key] = redact && SECRET_KEY.test(e.key) ? "***" : toJS(e.value, redact);
  return out;
}

export function show(node: SrcNode | undefined, secret = false): string {
  if (!node) return "(missing)";
  if (secret) return '"***"';
  const text = JSON.stringify(toJS(node, true));
  return text.length > 70 ? `${text.slice(0, 67)}...` : text;
}

export const at = (path: string, key: string | number): string =>
  typeof key === "number" ? `${path}[${key}]` : path ? `${path}.${key}` : key;

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

function suggest(key: string, allowed: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  return (
    allowed.find((k) => k.toLowerCase() === lower) ??
    allowed.find((k) => distance(k.toLowerCase(), lower) <= Math.min(2, Math.floor(k.length / 3)))
  );
}

export class Checker {
  readonly issues: ConfigIssue[] = [];
  constructor(readonly file?: string) {}

  report(pos: Pos | undefined, path: string, value: string, expected: string): void {
    this.issues.push({ file: this.file, line: pos?.line, col: pos?.col, path, value, expected });
  }

  bad(node: SrcNode, path: string, expected: string, secret = false): undefined {
    this.report(node.pos, path, show(node, secret), expected);
    return undefined;
  }

  /** Throws every issue found, ordered by position in the file. */
  throwIfAny(): void {
    if (!this.issues.length) return;
    const key = (i: ConfigIssue) => (i.line ?? 0) * 1e6 + (i.col ?? 0);
    throw new ConfigError([...this.issues].sort((a, b) => key(a) - key(b)));
  }

  /** The entries of a mapping by key; unknown and repeated keys are reported (their values masked when
   *  `secretUnknown`, e.g. inside a SAS rule where a misspelt key likely holds a key). A null value reads as empty. */
  fields(
    node: SrcNode,
    path: string,
    allowed: readonly string[],
    hint?: (key: string) => string | undefined,
    secretUnknown = false,
  ) {
    const out = new Map<string, MapEntry>();
    if (node.kind === "scalar" && node.value === null) return out;
    if (node.kind !== "map") return this.bad(node, path, `a mapping with keys ${allowed.join(", ")}`);
    for (const e of node.entries) {
      const p = at(path, e.key);
      const near = allowed.includes(e.key) ? undefined : suggest(e.key, allowed);
      const secret =
        SECRET_KEY.test(e.key) ||
        (near !== undefined && SECRET_KEY.test(near)) ||
        (secretUnknown && !allowed.includes(e.key));
      const value = show(e.value, secret);
      if (!allowed.includes(e.key)) {
        const extra = hint?.(e.key);
        const expected = near
          ? `a known key; did you mean "${near}"?`
          : `one of the known keys: ${allowed.join(", ")}${extra ? ` (${extra})` : ""}`;
        this.report(e.keyPos, p, value, expected);
      } else if (out.has(e.key)) {
        this.report(e.keyPos, p, value, `each key once (repeated key)`);
      } else out.set(e.key, e);
    }
    return out;
  }

  /** The items of a list; a null value reads as an empty list. */
  seq(node: SrcNode, path: string, what: string): SrcNode[] | undefined {
    if (node.kind === "scalar" && node.value === null) return [];
    if (node.kind !== "seq") return this.bad(node, path, `a list of ${what}`);
    return node.items;
  }

  str(node: SrcNode, path: string, expected: string, valid: (s: string) => boolean = () => true, secret = false) {
    if (node.kind !== "scalar" || typeof node.value !== "string" || !valid(node.value)) {
      return this.bad(node, path, expected, secret);
    }
    return node.value;
  }

  bool(node: SrcNode, path: string): boolean | undefined {
    if (node.kind !== "scalar" || typeof node.value !== "boolean") return this.bad(node, path, "true or false");
    return node.value;
  }

  int(node: SrcNode, path: string, expected: string, valid: (n: number) => boolean): number | undefined {
    if (
      node.kind !== "scalar" ||
      typeof node.value !== "number" ||
      !Number.isInteger(node.value) ||
      !valid(node.value)
    ) {
      return this.bad(node, path, expected);
    }
    return node.value;
  }

  duration(node: SrcNode, path: string, minMs: number, maxMs: number): number | undefined {
    const expected =
      maxMs >= TIMESPAN_MAX_MS
        ? `an ISO-8601 duration of at least ${formatDuration(minMs)}`
        : `an ISO-8601 duration from ${formatDuration(minMs)} to ${formatDuration(maxMs)}`;
    const ms = node.kind === "scalar" && typeof node.value === "string" ? parseDuration(node.value) : NaN;
    // parseDuration already rejects anything beyond TimeSpan.MaxValue, whose ms value has a fraction.
    if (!(ms >= minMs && (ms <= maxMs || maxMs >= TIMESPAN_MAX_MS))) return this.bad(node, path, expected);
    return ms;
  }

  /** Reports a required key that is absent, at the position of the mapping that lacks it. */
  need(entry: MapEntry | undefined, parent: SrcNode, path: string, expected: string): SrcNode | undefined {
    if (!entry) this.report(parent.pos, path, "(missing)", expected);
    return entry?.value;
  }
}

// ---- entity properties, described once per file format ----

export type PropSpec = { key: string; field: string } & (
  | { type: "bool" }
  | { type: "int"; expected: string; valid: (n: number) => boolean }
  | { type: "duration"; min: number; max: number }
  | { type: "entity" }
);

/** A forwardTo-style reference, resolved once every entity name is known. */
export interface EntityRef {
  field: string;
  name: string;
  node: SrcNode;
  path: string;
}

export function readProps<T extends object>(
  c: Checker,
  node: SrcNode | undefined,
  path: string,
  specs: readonly PropSpec[],
  defaults: T,
  refs: EntityRef[],
): T {
  const props = { ...defaults } as Record<string, unknown>;
  if (!node) return props as T;
  const fields = c.fields(
    node,
    path,
    specs.map((s) => s.key),
  );
  for (const spec of specs) {
    const entry = fields?.get(spec.key);
    if (!entry) continue;
    const p = at(path, spec.key);
    const v = entry.value;
    let value: unknown;
    if (spec.type === "bool") value = c.bool(v, p);
    else if (spec.type === "int") value = c.int(v, p, spec.expected, spec.valid);
    else if (spec.type === "duration") value = c.duration(v, p, spec.min, spec.max);
    else {
      // "" (the emulator's way) and null both mean: not forwarding.
      if (v.kind === "scalar" && (v.value === "" || v.value === null)) continue;
      const name = c.str(
        v,
        p,
        `the name of an entity in the same namespace (${ENTITY_NAME.expected})`,
        ENTITY_NAME.test,
      );
      if (name !== undefined) refs.push({ field: spec.field, name, node: v, path: p });
      continue;
    }
    if (value !== undefined) props[spec.field] = value;
  }
  return props as T;
}

/** Points each reference at a declared entity (by its declared spelling) or reports it. */
export function resolveRefs(
  c: Checker,
  owner: string,
  props: Record<string, unknown>,
  refs: EntityRef[],
  targets: Map<string, string>,
  what: string,
): void {
  for (const r of refs) {
    const target = targets.get(r.name.toLowerCase());
    if (target === undefined) c.bad(r.node, r.path, `the name of ${what} declared in the same namespace`);
    else if (target === owner) c.bad(r.node, r.path, "another entity than the one forwarding");
    else props[r.field] = target;
  }
}

export interface Named {
  name: string;
  node: SrcNode;
  path: string;
}

/** Names are case-insensitive in Service Bus; the later of two equal names is reported. */
export function checkUnique(c: Checker, items: Named[], what: string): void {
  const seen = new Map<string, Named>();
  for (const item of items) {
    const first = seen.get(item.name.toLowerCase());
    if (first)
      c.bad(
        item.node,
        item.path,
        `${/^[aeiou]/i.test(what) ? "an" : "a"} ${what} name not used before (${first.path} is ${JSON.stringify(first.name)})`,
      );
    else seen.set(item.name.toLowerCase(), item);
  }
}

// ---- naming rules ----

export interface NameRule {
  test: (s: string) => boolean;
  expected: string;
}

export const NAMESPACE_NAME: NameRule = {
  test: (s) => /^[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9]$/.test(s) && !/-(sb|mgmt)$/i.test(s),
  expected:
    "6-50 letters, digits and hyphens, starting with a letter, ending with a letter or digit, not ending in -sb or -mgmt",
};

export const ENTITY_NAME: NameRule = {
  test: (s) => s.length <= 260 && /^[A-Za-z0-9._\-/]+$/.test(s) && !s.startsWith("/") && !s.endsWith("/"),
  expected: "1-260 letters, digits, periods, hyphens, underscores and slashes, not starting or ending with a slash",
};

/** The emulator schema's pattern: starts and ends with a letter or digit. */
export function emulatorName(maxLength: number): NameRule {
  return {
    test: (s) => s.length <= maxLength && /^[A-Za-z0-9](?:[A-Za-z0-9_.\-/]*[A-Za-z0-9])?$/.test(s),
    expected: `1-${maxLength} letters, digits, underscores, periods, hyphens and slashes, starting and ending with a letter or digit`,
  };
}

export const SAS_RULE_NAME: NameRule = {
  test: (s) => /^[A-Za-z0-9._-]{1,256}$/.test(s),
  expected: "1-256 letters, digits, periods, hyphens and underscores",
};
