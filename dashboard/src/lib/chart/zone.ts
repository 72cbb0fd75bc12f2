/**
 * Wall-clock time in a time zone (markets keep New York time), with the platform's own tz data
 * (Intl), so daylight saving needs no table of ours. Times are UTC milliseconds.
 */

export interface ZonedParts {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      weekday: "short",
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The wall-clock fields of UTC time `t` in `tz`. */
export function zonedParts(t: number, tz: string): ZonedParts {
  const parts: Record<string, string> = {};
  for (const p of formatter(tz).formatToParts(new Date(t))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday] ?? 0,
  };
}

/** How far `tz`'s wall clock is ahead of UTC at `t`, in ms (New York: -4 or -5 hours). */
export function zoneOffset(t: number, tz: string): number {
  const p = zonedParts(t, tz);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - (t - (((t % 1000) + 1000) % 1000));
}

/**
 * The UTC time of a wall-clock time in `tz`. Fields may overflow (day 32 is the next month's
 * first), as with Date.UTC. A time skipped by a daylight-saving jump resolves to an hour later.
 */
export function zonedTime(
  tz: string,
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  let t = wall - zoneOffset(wall, tz);
  const again = wall - zoneOffset(t, tz);
  if (again !== t) t = Math.max(t, again);
  return t;
}

/** The start of the wall-clock day that holds `t` in `tz`. */
export function startOfDay(t: number, tz: string): number {
  const p = zonedParts(t, tz);
  return zonedTime(tz, p.year, p.month, p.day);
}
