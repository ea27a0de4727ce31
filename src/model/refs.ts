// `${servicebus.<ns>.connectionString}`, `${servicebus.<ns>.fqdn}`, `${identity.<name>.clientId}` ...:
// references in config values, resolved at apply time against the running platform.

/** Returns the value of `<kind>.<name>.<property>`, or undefined when there is no such thing. */
export type RefLookup = (kind: string, name: string, property: string) => string | undefined;

export class RefError extends Error {
  constructor(
    readonly path: string,
    readonly ref: string,
  ) {
    super(
      `${path}: \${${ref}} — no such value (known: servicebus.<namespace>.connectionString|fqdn|host, identity.<name>.clientId|principalId|resourceId)`,
    );
    this.name = "RefError";
  }
}

const REF = /\$\{([A-Za-z][\w-]*)\.([^.}]+)\.([A-Za-z]+)\}/g;

/** A deep copy of `value` with every reference in its strings replaced; throws RefError naming the field. */
export function resolveRefs<T>(value: T, lookup: RefLookup, path = ""): T {
  if (typeof value === "string") {
    return value.replace(REF, (whole, kind: string, name: string, prop: string) => {
      const v = lookup(kind, name, prop);
      if (v === undefined) throw new RefError(path || "(value)", whole.slice(2, -1));
      return v;
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveRefs(v, lookup, `${path}[${i}]`)) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveRefs(v, lookup, path ? `${path}.${k}` : k);
    return out as T;
  }
  return value;
}
