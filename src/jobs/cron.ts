// Standard 5-field cron (minute hour day-of-month month day-of-week), evaluated in UTC as Container Apps
// evaluates scheduleTriggerConfig.cronExpression, by croner. Pure: the caller passes the time.
import { Cron as Croner } from "croner";

export interface Cron {
  expression: string;
  minutes: boolean[]; // [0..59]
  hours: boolean[]; // [0..23]
  daysOfMonth: boolean[]; // [1..31]
  months: boolean[]; // [1..12]
  daysOfWeek: boolean[]; // [0..6], 0 = Sunday
  /** a field other than `*`: when both day fields are restricted a day matches if EITHER does */
  domRestricted: boolean;
  dowRestricted: boolean;
}

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: string[];
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const FIELDS: FieldDef[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS },
  // 7 is Sunday too
  { name: "day-of-week", min: 0, max: 7, names: DAYS },
];
/** the most days each month can have (February: leap years) */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export class CronError extends Error {}

function parseField(text: string, def: FieldDef, fail: (msg: string) => never): boolean[] {
  const set = new Array<boolean>(def.max + 1).fill(false);
  const value = (s: string): number => {
    const byName = def.names?.indexOf(s.toUpperCase()) ?? -1;
    if (byName >= 0) return byName + (def.name === "month" ? 1 : 0);
    if (!/^\d+$/.test(s))
      fail(
        `${def.name} "${s}" is not a number${def.names ? ` or a name (${def.names[0]}-${def.names[def.names.length - 1]})` : ""}`,
      );
    const n = Number(s);
    if (n < def.min || n > def.max) fail(`${def.name} ${n} is out of range ${def.min}-${def.max}`);
    return n;
  };
  for (const part of text.split(",")) {
    if (!part) fail(`${def.name} "${text}" has an empty list item`);
    const [range, stepText, extra] = part.split("/");
    if (extra !== undefined) fail(`${def.name} "${part}" has more than one step`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0)
        fail(`${def.name} step "${stepText}" must be a positive number`);
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (range === "*") [lo, hi] = [def.min, def.name === "day-of-week" ? 6 : def.max];
    else {
      const bounds = range.split("-");
      if (bounds.length > 2 || bounds.some((b) => !b)) fail(`${def.name} "${range}" is not a value or a range`);
      lo = value(bounds[0]);
      // `N/step` means N through the end of the range, as most crons read it
      hi = bounds.length === 2 ? value(bounds[1]) : stepText !== undefined ? def.max : lo;
      if (hi < lo) fail(`${def.name} range ${range} goes backwards`);
    }
    for (let v = lo; v <= hi; v += step) set[v] = true;
  }
  return set;
}

/** Parses a 5-field cron expression; errors name the field and value. */
export function parseCron(expression: string): Cron {
  const expr = expression.trim();
  const fail = (msg: string): never => {
    throw new CronError(`cronExpression "${expression}": ${msg}`);
  };
  const parts = expr.split(/\s+/).filter(Boolean);
  if (parts.length !== 5) fail(`expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`);
  const [minutes, hours, dom, months, dowRaw] = parts.map((p, i) => parseField(p, FIELDS[i], fail));
  const daysOfWeek = dowRaw.slice(0, 7);
  if (dowRaw[7]) daysOfWeek[0] = true;
  const unrestricted = (p: string) => p === "*" || p === "*/1";
  const cron: Cron = {
    expression: expr,
    minutes,
    hours,
    daysOfMonth: dom,
    months,
    daysOfWeek,
    domRestricted: !unrestricted(parts[2]),
    dowRestricted: !unrestricted(parts[4]),
  };
  // a day-of-month that no selected month has would never fire (e.g. "0 0 30 2 *")
  if (cron.domRestricted && !cron.dowRestricted) {
    const possible = months.some((on, m) => on && dom.some((d, day) => d && day <= MONTH_DAYS[m - 1]));
    if (!possible) fail(`day-of-month ${parts[2]} never occurs in month ${parts[3]}`);
  }
  return cron;
}

/** The first time strictly after `after` (to the minute, UTC) that the schedule fires. */
export function nextRun(cron: Cron, after: Date): Date {
  const next = new Croner(cronerPattern(cron), {
    timezone: "UTC",
    mode: "5-part",
    domAndDow: false,
    paused: true,
  }).nextRun(after);
  if (!next) throw new CronError(`cronExpression "${cron.expression}": no run after ${after.toISOString()}`);
  return next;
}

/**
 * croner evaluates; our parser gives the errors that name the field and value and reads a few forms croner
 * refuses (`N/step`), so croner gets the parsed fields as explicit lists. A day field stays `*` when it is
 * unrestricted, which is what makes day-of-month and day-of-week combine with OR only when both are set.
 */
function cronerPattern(cron: Cron): string {
  const list = (set: boolean[]) => set.flatMap((on, v) => (on ? [v] : [])).join(",");
  return [
    list(cron.minutes),
    list(cron.hours),
    cron.domRestricted ? list(cron.daysOfMonth) : "*",
    list(cron.months),
    cron.dowRestricted ? list(cron.daysOfWeek) : "*",
  ].join(" ");
}
