// The admin API's error type and the checks of description fields every entity kind shares. Every
// rejection is a 400 whose detail names the property and the value, e.g.
// "The value 'PT10M' of property 'LockDuration' is invalid: expected a duration from PT5S to PT5M."
import { parseDuration } from "../../model/duration.js";
import { BrokerError, type ErrorCode } from "../errors.js";
import { child, parseXml, XmlError, type XmlElement } from "./xml.js";

/**
 * An admin API failure: a code of the broker's error table (errors.ts), whose status is the HTTP status, and
 * the detail text of the service's <Error> body.
 */
export class AdminError extends BrokerError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = "AdminError";
  }
}

export const SEC = 1000;
export const MIN = 60 * SEC;

export function invalid(prop: string, value: string, expected: string): AdminError {
  return new AdminError(
    "ArgumentError",
    `The value '${value}' of property '${prop}' is invalid: expected ${expected}.`,
  );
}

export function bool(prop: string, v: string): boolean {
  const t = v.trim().toLowerCase();
  if (t === "true" || t === "false") return t === "true";
  throw invalid(prop, v, "true or false");
}

export function int(prop: string, v: string, expected: string, ok: (n: number) => boolean): number {
  const n = /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || !ok(n)) throw invalid(prop, v, expected);
  return n;
}

export function duration(prop: string, v: string, min: number, max: number, range: string): number {
  const ms = parseDuration(v.trim());
  // (floor: TimeSpan.MaxValue parses to a fraction of a millisecond above TIMESPAN_MAX_MS)
  if (!(ms >= min && Math.floor(ms) <= max)) throw invalid(prop, v, `an ISO-8601 duration from ${range}`);
  return ms;
}

export const STATUSES = ["Active", "Disabled", "SendDisabled", "ReceiveDisabled"];

export function status(prop: string, v: string): string {
  if (!STATUSES.includes(v.trim())) throw invalid(prop, v, "Active, Disabled, SendDisabled or ReceiveDisabled");
  return v.trim();
}

export function userMetadata(prop: string, v: string): string {
  if (v.length > 1024) throw invalid(prop, `${v.slice(0, 40)}…`, "at most 1024 characters");
  return v;
}

/** Parses a PUT body: undefined for an empty body, else the root element (XML errors are 400s). */
export function parseBody(body: string): XmlElement | undefined {
  if (!body.trim()) return undefined;
  try {
    return parseXml(body);
  } catch (e) {
    if (e instanceof XmlError)
      throw new AdminError("ArgumentError", `The request body is not valid XML: ${e.message}.`);
    throw e;
  }
}

/** The description element of a parsed body: in an ATOM entry's <content>, or the root itself. */
export function contentOf(root: XmlElement | undefined): XmlElement | undefined {
  if (!root) return undefined;
  return root.name === "entry" ? child(root, "content")?.children[0] : root;
}

/** The description element of `kind` (e.g. "TopicDescription") in a PUT body; undefined for an empty body. */
export function descriptionOf(body: string, kind: string, at: string): XmlElement | undefined {
  const root = parseBody(body);
  if (!root) return undefined;
  const desc = contentOf(root);
  if (!desc) throw new AdminError("ArgumentError", `The request body has no <content> with a ${kind}.`);
  if (desc.name !== kind) {
    const what = desc.name.replace(/Description$/, "").toLowerCase();
    throw new AdminError(
      "ArgumentError",
      `The request body describes a ${what} (${desc.name}); only ${kind.replace(/Description$/, "").toLowerCase()}s are supported at ${at}.`,
    );
  }
  return desc;
}

/** The local part of an `xsi:type` attribute (`p4:type="SqlFilter"` → "SqlFilter", `l28:double` → "double"). */
export function xsiType(el: XmlElement): string | undefined {
  for (const [k, v] of Object.entries(el.attrs)) {
    if (k === "type" || k.endsWith(":type")) return v.slice(v.indexOf(":") + 1);
  }
  return undefined;
}
