import { escapeText } from "../lifecycle/text.js";

/**
 * The API server drops warnings silently when they are empty, duplicated, contain a control
 * character or are not UTF-8, and past 4096 bytes in total it truncates them to 256 and then drops
 * them. Shaping them here keeps every warning visible and whole.
 */
export const MAX_WARNING_BYTES = 256;
export const MAX_TOTAL_WARNING_BYTES = 4096;

function byteLength(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes on a character boundary, marking the cut. */
export function truncateBytes(text: string, maxBytes: number): string {
  if (byteLength(text) <= maxBytes) return text;
  const ellipsis = "…";
  const budget = maxBytes - byteLength(ellipsis);
  let out = "";
  let used = 0;
  for (const char of text) {
    const size = byteLength(char);
    if (used + size > budget) break;
    out += char;
    used += size;
  }
  return `${out.trimEnd()}${ellipsis}`;
}

export function shapeWarnings(texts: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const raw of texts) {
    // Escaped, never dropped: a control character would make the API server drop the warning.
    const text = truncateBytes(escapeText(raw).replace(/\s+/g, " ").trim().replace(/^Warning:\s*/i, ""), MAX_WARNING_BYTES);
    if (text === "" || seen.has(text)) continue;
    const size = byteLength(text);
    if (total + size > MAX_TOTAL_WARNING_BYTES) break;
    seen.add(text);
    out.push(text);
    total += size;
  }
  return out;
}
