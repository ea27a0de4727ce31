// Durations as Service Bus writes them: ISO-8601 (what XmlConvert.ToTimeSpan reads) and the .NET
// TimeSpan text form. Arithmetic runs in 100 ns ticks (BigInt) so TimeSpan.MaxValue round-trips.

const TICKS_PER_MS = 10_000n;
const TICKS_PER_SECOND = 10_000_000n;
const TICKS_PER_MINUTE = 60n * TICKS_PER_SECOND;
const TICKS_PER_HOUR = 60n * TICKS_PER_MINUTE;
const TICKS_PER_DAY = 24n * TICKS_PER_HOUR;
const MAX_TICKS = 9_223_372_036_854_775_807n;

/** TimeSpan.MaxValue as Service Bus prints it: "never" for TTLs and auto-delete. */
export const TIMESPAN_MAX_ISO = "P10675199DT2H48M5.4775807S";
/** TimeSpan.MaxValue in whole milliseconds; formatDuration prints anything at or above it as TIMESPAN_MAX_ISO. */
export const TIMESPAN_MAX_MS = Number(MAX_TICKS / TICKS_PER_MS);

// Years and months count as 365 and 30 days, as XmlConvert does; only seconds take a fraction.
const ISO =
  /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d+))?S)?)?$/;
const TIMESPAN = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/;

function big(digits: string | undefined): bigint {
  return digits ? BigInt(digits) : 0n;
}

/** Up to 7 fraction digits as ticks; further digits are below a tick and dropped. */
function fractionTicks(digits: string | undefined): bigint {
  return digits ? BigInt(digits.slice(0, 7).padEnd(7, "0")) : 0n;
}

function toMs(ticks: bigint): number {
  if (ticks > MAX_TICKS) return NaN;
  return Number(ticks / TICKS_PER_MS) + Number(ticks % TICKS_PER_MS) / 10_000;
}

/**
 * Parses `PT5M`, `P14D`, `PT1H30M`, `PT0.5S`, `P10675199DT2H48M5.4775807S` or `[d.]hh:mm:ss[.fffffff]`
 * into milliseconds (fractional below 1 ms). Returns NaN for anything else, including negative
 * durations and values beyond TimeSpan.MaxValue. Case-sensitive, like .NET.
 */
export function parseDuration(text: string): number {
  if (typeof text !== "string") return NaN;
  const iso = ISO.exec(text);
  if (iso) {
    const [, y, mo, w, d, h, mi, s, f] = iso;
    const days = big(y) * 365n + big(mo) * 30n + big(w) * 7n + big(d);
    return toMs(
      days * TICKS_PER_DAY +
        big(h) * TICKS_PER_HOUR +
        big(mi) * TICKS_PER_MINUTE +
        big(s) * TICKS_PER_SECOND +
        fractionTicks(f),
    );
  }
  const ts = TIMESPAN.exec(text);
  if (ts) {
    const [, d, h, mi, s, f] = ts;
    if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return NaN;
    return toMs(
      big(d) * TICKS_PER_DAY +
        big(h) * TICKS_PER_HOUR +
        big(mi) * TICKS_PER_MINUTE +
        big(s) * TICKS_PER_SECOND +
        fractionTicks(f),
    );
  }
  return NaN;
}

/**
 * Milliseconds → ISO-8601 the way Service Bus prints it: days, hours, minutes, seconds with up to
 * 7 fraction digits (`PT5M`, `P1DT2H`, `PT0.5S`, `PT0S`). Throws RangeError for negative or
 * non-finite input.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`not a duration: ${ms} ms`);
  if (ms >= TIMESPAN_MAX_MS) return TIMESPAN_MAX_ISO;
  const whole = Math.floor(ms);
  let ticks = BigInt(whole) * TICKS_PER_MS + BigInt(Math.round((ms - whole) * 10_000));
  const days = ticks / TICKS_PER_DAY;
  ticks %= TICKS_PER_DAY;
  const hours = ticks / TICKS_PER_HOUR;
  ticks %= TICKS_PER_HOUR;
  const minutes = ticks / TICKS_PER_MINUTE;
  ticks %= TICKS_PER_MINUTE;
  const seconds = ticks / TICKS_PER_SECOND;
  const fraction = (ticks % TICKS_PER_SECOND).toString().padStart(7, "0").replace(/0+$/, "");
  let time = "";
  if (hours) time += `${hours}H`;
  if (minutes) time += `${minutes}M`;
  if (seconds || fraction) time += `${seconds}${fraction ? `.${fraction}` : ""}S`;
  if (!days && !time) return "PT0S";
  return `P${days ? `${days}D` : ""}${time ? `T${time}` : ""}`;
}
