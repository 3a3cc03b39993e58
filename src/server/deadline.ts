/** The API server's default webhook timeout when ?timeout= is absent. */
export const DEFAULT_TIMEOUT_MS = 10_000;

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, "µs": 0.001, ns: 0.000001 };

/** Parses a Go duration as the API server writes it in `?timeout=10s` (also `1m0s`, `500ms`). */
export function parseGoDuration(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const parts = /^(?:\d+(?:\.\d+)?(?:h|ms|us|µs|ns|m|s))+$/.test(text) ? text.match(/\d+(?:\.\d+)?(?:h|ms|us|µs|ns|m|s)/g) : null;
  if (!parts) return undefined;
  let total = 0;
  for (const part of parts) {
    const [, value, unit] = /^(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)$/.exec(part) ?? [];
    total += Number(value) * (UNIT_MS[unit ?? ""] ?? NaN);
  }
  return Number.isFinite(total) && total > 0 ? total : undefined;
}
