/**
 * Every value in a review is untrusted text. Before it reaches a message, a cause field, a
 * warning, a log line or the CLI's output it goes through here, so an object's author cannot
 * forge lines in `kubectl` output, an editor comment or a log: controls (C0, C1, DEL, so CR, LF
 * and ESC), invisible format characters (bidi controls U+202A–U+202E and U+2066–U+2069, zero
 * widths, U+FEFF), the line and paragraph separators U+2028/U+2029 and lone surrogates are written
 * as `\uXXXX`, and long values are cut.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;
/**
 * A cheap test that every text passes first (a plain character class, no Unicode properties): it
 * matches every BMP character UNSAFE matches, and every surrogate (so astral format characters and
 * lone surrogates go to the full pass). Most texts match nothing and are returned as they are.
 */
// eslint-disable-next-line no-control-regex -- these characters are the point
const MAYBE_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]/;

/** Values longer than this many characters are cut with `…`. */
export const MAX_VALUE_CHARACTERS = 64;

/** `\uXXXX` for each UTF-16 unit: an astral format character is two of them, both written. */
const escapeOne = (char: string): string => {
  let out = "";
  for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`;
  return out;
};

/** Writes every unsafe character as `\uXXXX`; nothing is cut. */
export function escapeText(text: string): string {
  return MAYBE_UNSAFE.test(text) ? text.replace(UNSAFE, escapeOne) : text;
}

/** Whether a text holds a character `escapeText` would rewrite. */
export function hasUnsafeCharacter(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}

/**
 * A value taken from an object, as messages show it: cut to MAX_VALUE_CHARACTERS (on a code
 * point, never inside a surrogate pair), then escaped. Only the head of a huge value is read.
 */
export function shown(value: string, max = MAX_VALUE_CHARACTERS): string {
  if (value.length <= max) return escapeText(value);
  let end = max - 1;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${escapeText(value.slice(0, end))}…`;
}

/** Cuts an already escaped text (a whole message) to `max` characters, marking the cut. */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}
