// Which values are secrets, in one place for every output: plan, the control API (jobs, executions), export.
// A secret is a job secret's value, a key, a connection string or token wherever it appears, and an env
// value whose variable is named like one (DB_PASSWORD, API_KEY, SB_CONNECTION_STRING). Outputs show
// "(sensitive)" instead; a job written back with those marks (`job update` reads, changes, writes) keeps
// the values it had.

export const SENSITIVE = "(sensitive)";

/** Names of fields and env vars that hold secrets; `secretRef` (and a registry's `passwordSecretRef`) names one. */
const SECRET_NAME = /key$|secret(?!ref)|password(?!secretref)|token|connectionstring/i;
/** Values that are secrets whatever holds them: SAS keys (connection strings, signatures) and JWTs. */
const SECRET_VALUE = /SharedAccessKey=|SharedAccessSignature |^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/i;

/** Whether an env var's value is a secret by the variable's name. */
export const isSecretEnvName = (name: string): boolean => SECRET_NAME.test(name.replace(/[-_.]/g, ""));

/** Whether the value at a flat path (`properties.template.containers[main].env[DB_PASSWORD].value`) is a secret. */
export function isSensitive(path: string, value?: unknown): boolean {
  const last = path.split(/[.[]/).pop() ?? "";
  const env = /\.env\[([^\]]*)\]\.value$/.exec(path)?.[1];
  return (
    SECRET_NAME.test(last) ||
    /secrets\[[^\]]*\]\.value$/.test(path) ||
    (env !== undefined && isSecretEnvName(env)) ||
    (typeof value === "string" && SECRET_VALUE.test(value))
  );
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
/** A list item's key in a path: its name when it has one (as resources.ts flatten keys them), else its index. */
const itemKey = (v: unknown, i: number) => (isObj(v) && typeof v.name === "string" ? v.name : String(i));

/** A copy of a job entry, execution template or any job-shaped value with every secret as "(sensitive)". */
export function masked<T>(value: T, path = ""): T {
  if (Array.isArray(value)) return value.map((v, i) => masked(v, `${path}[${itemKey(v, i)}]`)) as T;
  if (isObj(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, path ? `${path}.${k}` : k)])) as T;
  return typeof value === "string" && isSensitive(path, value) ? (SENSITIVE as T) : value;
}

/**
 * A job entry sent back after reading it masked: each "(sensitive)" and each secret without a value takes
 * the value the stored entry has at the same place (lists matched by name). Returns the places that have
 * no stored value to take, so the caller can refuse the entry instead of storing the mark.
 */
export function unmasked(next: Obj, stored: Obj | undefined): { entry: Obj; missing: string[] } {
  const missing: string[] = [];
  const walk = (v: unknown, was: unknown, path: string): unknown => {
    if (v === SENSITIVE) {
      if (typeof was === "string") return was;
      missing.push(path);
      return v;
    }
    if (Array.isArray(v)) {
      const old = Array.isArray(was) ? was : [];
      return v.map((x, i) => {
        const key = itemKey(x, i);
        return walk(
          x,
          old.find((o, j) => itemKey(o, j) === key),
          `${path}[${key}]`,
        );
      });
    }
    if (!isObj(v)) return v;
    const out = Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, walk(x, isObj(was) ? was[k] : undefined, path ? `${path}.${k}` : k)]),
    );
    // a job secret as `job show` prints it (ARM's shape: its name only)
    if (/\.secrets\[[^\]]*\]$/.test(path) && out.value === undefined && out.keyVaultUrl === undefined) {
      if (isObj(was) && typeof was.value === "string") out.value = was.value;
      else missing.push(`${path}.value`);
    }
    return out;
  };
  return { entry: walk(next, stored, "") as Obj, missing };
}
