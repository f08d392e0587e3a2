// Medians, ratios and number formatting.

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Rounds to `digits` significant digits (as a number, for JSON). */
export function round(x, digits = 4) {
  if (x === null || x === undefined || !Number.isFinite(x)) return null;
  if (x === 0) return 0;
  return Number(x.toPrecision(digits));
}

/** Three significant digits, no exponent: 0.0123, 1.23, 123, 12345. */
export function fmt(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "n/a";
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toString();
  if (a === 0) return "0";
  const decimals = Math.max(0, 2 - Math.floor(Math.log10(a)));
  return x.toFixed(Math.min(decimals, 4));
}

export const MB = 1e6;
export const MiB = 1024 * 1024;
