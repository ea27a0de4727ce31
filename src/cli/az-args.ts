// az's argument conventions shared by the Service Bus commands: three-state booleans and integers, with az's
// error texts.
import { fail } from "./util.js";

/** az's three-state booleans: `--enable-session` alone is true; `--enable-session false` is false. */
export function bool(flag: string, v: unknown): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === true || v === "true") return true;
  if (v === "false") return false;
  fail(`argument ${flag}: invalid choice: '${String(v)}' (choose from 'false', 'true')`);
}

export function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) fail(`argument ${flag}: invalid int value: '${v}'`);
  return Number(v);
}

export type FlagKind = "str" | "int" | "bool";
/** A flag → a property in eventjobs.yaml's names (the server checks ranges under those names). */
export type FlagSpec = [flag: string, key: string, prop: string, kind: FlagKind];

/** The properties the given flags set (commander's camelCase option keys). */
export function flagProperties(o: Record<string, unknown>, flags: FlagSpec[]): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  for (const [flag, key, prop, kind] of flags) {
    const raw = o[key];
    const v = kind === "int" ? int(flag, raw as string | undefined) : kind === "bool" ? bool(flag, raw) : raw;
    if (v !== undefined) props[prop] = v;
  }
  return props;
}

/** The server's "lockDuration: ... — expected ..." with the flag az users typed. */
export function withFlagNames(message: string, flags: FlagSpec[]): string {
  return message.replace(/^(\w+): /gm, (whole, prop: string) => {
    const f = flags.find((x) => x[2] === prop);
    return f ? `${f[0]}: ` : whole;
  });
}
