// Times as the CLI prints them to people: a wall-clock time for feeds, and spans like "1.2 s" or "13 h 4 min".

/** HH:MM:SS in the local time zone (a terminal feed's timestamps, as docker compose logs prints them). */
export function clockTime(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

/** A span, to a tenth of a second below a minute, else in its two largest units: "0.4 s", "2 min 5 s", "3 d 4 h". */
export function span(ms: number): string {
  const abs = Math.max(0, ms);
  if (abs < 60_000) return `${(abs / 1000).toFixed(1)} s`;
  const units: Array<[string, number]> = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["min", 60_000],
    ["s", 1000],
  ];
  const parts: string[] = [];
  let rest = Math.floor(abs / 1000) * 1000;
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n || parts.length) parts.push(`${n} ${name}`);
    if (parts.length === 2) break;
  }
  return parts.filter((p) => !p.startsWith("0 ")).join(" ");
}
