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

/** An RFC 3339 instant shown as wall time in `timeZone` ("2026-12-07 05:51:01"). */
export function dateTime(instant, timeZone) {
  const shown = new Intl.DateTimeFormat("sv-SE", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  });
  return shown.format(new Date(instant));
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
