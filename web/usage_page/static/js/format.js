// Formatting of the API's values for display. Money arrives as exact Decimal strings
// ("1234.567891"): it is formatted as text, never parsed into a float.

const GROUPS = /\B(?=(\d{3})+(?!\d))/g;

/** "1234.5" -> "1,234.5" (digits kept exactly; a leading "-" kept). */
export function groupDigits(text) {
  const negative = text.startsWith("-");
  const [whole, fraction] = (negative ? text.slice(1) : text).split(".");
  const grouped = whole.replace(GROUPS, ",");
  return (negative ? "-" : "") + grouped + (fraction === undefined ? "" : `.${fraction}`);
}

/** A Decimal string of USD -> "$1,234.567891"; null -> "—". */
export function money(decimal) {
  if (decimal === null || decimal === undefined) return "—";
  const negative = decimal.startsWith("-");
  return (negative ? "-$" : "$") + groupDigits(negative ? decimal.slice(1) : decimal);
}

/** A count (BigInt scalar: a JSON number within 2^53) -> "12,345". */
export function count(value) {
  if (value === null || value === undefined) return "—";
  return groupDigits(String(value));
}

/** A Decimal percent string ("94.462365591") -> "94.46%" (cut, not rounded, to `digits`). */
export function percent(decimal, digits = 2) {
  if (decimal === null || decimal === undefined) return "—";
  const [whole, fraction = ""] = decimal.split(".");
  const kept = fraction.slice(0, digits).replace(/0+$/, "");
  return `${groupDigits(whole)}${kept ? `.${kept}` : ""}%`;
}

/** Milliseconds (an Int, or a Decimal string for averages) -> "1,961 ms". */
export function milliseconds(value) {
  if (value === null || value === undefined) return "—";
  const whole = String(value).split(".")[0];
  return `${groupDigits(whole)} ms`;
}

/** A Decimal string of USD -> BigInt of nano-USD (exact; for proportions in charts). */
export function nanos(decimal) {
  if (decimal === null || decimal === undefined) return 0n;
  const negative = decimal.startsWith("-");
  const [whole, fraction = ""] = (negative ? decimal.slice(1) : decimal).split(".");
  const value = BigInt(whole || "0") * 1_000_000_000n + BigInt((fraction + "000000000").slice(0, 9));
  return negative ? -value : value;
}

/** `part / whole` as a number in [0, 1] from two BigInts (for bar lengths only). */
export function share(part, whole) {
  if (whole <= 0n) return 0;
  return Number((part * 10_000n) / whole) / 10_000;
}

/** Year to second, 24-hour, in `timeZone`; one formatter per locale and zone (they are
 * costly to build and offsetAt asks for one per conversion step). */
const wallClockFormats = new Map();
function wallClockFormat(locale, timeZone) {
  const key = `${locale} ${timeZone}`;
  let format = wallClockFormats.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(locale, {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    wallClockFormats.set(key, format);
  }
  return format;
}

/** An RFC 3339 instant shown as wall time in `timeZone` ("2026-12-07 05:51:01"). */
export function dateTime(instant, timeZone) {
  return wallClockFormat("sv-SE", timeZone).format(new Date(instant));
}

const WALL_CLOCK = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** The offset of `timeZone` from UTC at the instant `ms` (epoch milliseconds), in ms. */
function offsetAt(ms, timeZone) {
  const parts = {};
  const format = wallClockFormat("en-US", timeZone);
  for (const part of format.formatToParts(new Date(ms))) parts[part.type] = part.value;
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day),
    Number(parts.hour), Number(parts.minute), Number(parts.second));
  return wall - Math.floor(ms / 1000) * 1000;
}

function twoDigits(n) {
  return String(n).padStart(2, "0");
}

/**
 * A wall-clock time of `timeZone` ("2026-11-01T01:30", a datetime-local input's value) as the
 * exact instant, in RFC 3339 with that zone's offset ("2026-11-01T01:30:00-04:00").
 *
 * The offset is the one whose instant shows that wall clock in the zone, found with
 * Intl.DateTimeFormat, so DST and +05:30 / +05:45 zones are exact. Two cases have no single
 * such offset; both are resolved as Python's zoneinfo does with fold=0 (and as Temporal's
 * "compatible" disambiguation):
 * - a time repeated when clocks go back (01:30 on 2026-11-01 in New York, once EDT, once EST)
 *   is the EARLIER instant (the offset before the change, -04:00);
 * - a time skipped when clocks go forward (02:30 on 2026-03-08 in New York does not exist) is
 *   read with the offset before the change, i.e. moved forward by the gap's length
 *   (02:30 EST = 03:30 EDT, sent as 2026-03-08T03:30:00-04:00).
 * Returns null for a value that is not a wall-clock time.
 */
export function zonedInstant(wallClock, timeZone) {
  const match = WALL_CLOCK.exec(wallClock);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map((n) => Number(n ?? 0));
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  // Zone changes are far more than a day apart: the offsets a day before and a day after
  // are the only candidates (the same offset twice away from any change).
  const before = offsetAt(asUtc - 24 * HOUR_MS, timeZone);
  const after = offsetAt(asUtc + 24 * HOUR_MS, timeZone);
  const fits = [before, after].filter((offset) => offsetAt(asUtc - offset, timeZone) === offset);
  // Earliest instant = largest offset among those that fit; in a gap none fits: `before`.
  const instant = asUtc - (fits.length ? Math.max(...fits) : before);
  // Written with the offset in force at that instant (in a gap: the one after the change).
  const offset = offsetAt(instant, timeZone);
  if (offset % MINUTE_MS !== 0) return new Date(instant).toISOString();  // an LMT offset
  const sign = offset < 0 ? "-" : "+";
  const minutes = Math.abs(offset) / MINUTE_MS;
  const date = new Date(instant + offset).toISOString().slice(0, 19);
  return `${date}${sign}${twoDigits(Math.floor(minutes / 60))}:${twoDigits(minutes % 60)}`;
}

/** The seed's conversion guide: ~4 characters and ~0.75 words per token. */
export function tokenEquivalents(tokens) {
  const n = BigInt(tokens ?? 0);
  return {
    words: count(String((n * 3n) / 4n)),
    characters: count(String(n * 4n)),
    pages: count(String(n / 1000n)),
  };
}
