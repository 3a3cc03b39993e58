import semver from "semver";
import { shown } from "./text.js";

/**
 * The tag grammar of RULES.md: `[v]MAJOR.MINOR.PATCH` then `-`-separated parts, where `patchN` is
 * the Solo patch level, `alpha`/`beta`/`rc` (optionally `.N`) is an Istio pre-release, and every
 * other word (`solo`, `fips`, `distroless`, ...) is a variant that never orders.
 *
 * semver orders MAJOR.MINOR.PATCH and the pre-release correctly, so it is used for exactly that.
 * It would treat `patch1-solo` as a pre-release and order `1.24.2-patch1-solo` *before*
 * `1.24.2`, which is wrong, so the Solo patch level is compared separately.
 */
export interface ParsedTag {
  readonly raw: string;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Normalised pre-release (`rc.1`), or undefined for a release. */
  readonly prerelease: string | undefined;
  /** Solo patch level; a tag without `patchN` is level 0. */
  readonly soloPatch: number;
  /** Whether the tag is written with a leading `v`. */
  readonly vPrefix: boolean;
  /**
   * Variant parts exactly as written, in order and case (`solo-fips`). An image tag is a literal
   * name: two spellings of one variant are two images (or one that does not exist).
   */
  readonly variantText: string;
  /** MAJOR.MINOR.PATCH[-pre-release] as semver, which orders it correctly. */
  readonly core: semver.SemVer;
}

export type TagParse =
  | { readonly ok: true; readonly tag: ParsedTag }
  | { readonly ok: false; readonly raw: string; readonly reason: string };

const CORE = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-(.+))?$/;
const SOLO_PATCH = /^patch(\d+)$/;
const PRERELEASE = /^(alpha|beta|rc)(?:\.?(\d+))?$/;
const VARIANT = /^[a-z][a-z0-9]*$/i;

/**
 * Tags repeat across entries and reviews; parsing each distinct one once keeps large objects
 * linear. Bounded by bytes, not only entries: a tag longer than any real one (they are under 60
 * characters) is parsed but never kept, so the cache holds at most 4096 × 128 characters.
 */
const parsed = new Map<string, TagParse>();
const PARSE_CACHE_LIMIT = 4096;
const CACHEABLE_TAG_LENGTH = 128;

export function parseTag(raw: string): TagParse {
  let result = parsed.get(raw);
  if (result) return result;
  result = parseTagUncached(raw);
  if (raw.length > CACHEABLE_TAG_LENGTH) return result;
  if (parsed.size >= PARSE_CACHE_LIMIT) parsed.clear();
  parsed.set(raw, result);
  return result;
}

/** How many tags the parse cache holds, and their total length (for the reliability suite). */
export function tagCacheSize(): { readonly entries: number; readonly characters: number } {
  let characters = 0;
  for (const key of parsed.keys()) characters += key.length;
  return { entries: parsed.size, characters };
}

function parseTagUncached(raw: string): TagParse {
  const fail = (reason: string): TagParse => ({ ok: false, raw, reason });
  const match = CORE.exec(raw);
  if (!match) return fail("not MAJOR.MINOR.PATCH[-suffix]");
  const [, major, minor, patch, suffix] = match;
  let prerelease: string | undefined;
  let soloPatch: number | undefined;
  const written: string[] = [];
  for (const part of suffix === undefined ? [] : suffix.split("-")) {
    const solo = SOLO_PATCH.exec(part);
    const pre = PRERELEASE.exec(part);
    if (solo) {
      if (soloPatch !== undefined) return fail("two Solo patch levels");
      soloPatch = Number(solo[1]);
    } else if (pre) {
      if (prerelease !== undefined) return fail("two pre-release parts");
      prerelease = pre[2] === undefined ? pre[1] : `${pre[1]}.${Number(pre[2])}`;
    } else if (/^(patch|alpha|beta|rc)/i.test(part) || !VARIANT.test(part)) {
      return fail(`part ${JSON.stringify(shown(part, 24))} is not patchN, a pre-release or a variant`);
    } else {
      written.push(part);
    }
  }
  return {
    ok: true,
    tag: {
      raw,
      major: Number(major),
      minor: Number(minor),
      patch: Number(patch),
      prerelease,
      soloPatch: soloPatch ?? 0,
      vPrefix: raw.startsWith("v"),
      variantText: written.join("-"),
      core: new semver.SemVer(`${major}.${minor}.${patch}${prerelease === undefined ? "" : `-${prerelease}`}`),
    },
  };
}

/** Orders two parsed tags by version; variants are ignored. Negative when a < b. */
export function compareTags(a: ParsedTag, b: ParsedTag): number {
  const byCore = a.core.compare(b.core);
  if (byCore !== 0) return byCore;
  return Math.sign(a.soloPatch - b.soloPatch);
}

/** Whether two tags are written in the same form: the same `v` prefix and the same variant parts, in order and case. */
export function sameForm(a: ParsedTag, b: ParsedTag): boolean {
  return a.vPrefix === b.vPrefix && a.variantText === b.variantText;
}

/** Unset tags (empty or the literal `auto`) let Gloo pick the version. */
export function isUnsetTag(value: unknown): boolean {
  return value === undefined || value === null || value === "" || value === "auto";
}

/** Classification of a tag change between two entries, as the LG10x rules see it. */
export type TagChange =
  | { readonly kind: "none" }
  | { readonly kind: "added"; readonly to: string }
  | { readonly kind: "removed"; readonly from: string }
  | { readonly kind: "unorderable"; readonly from: string; readonly to: string; readonly which: readonly TagParse[] }
  | { readonly kind: "majorMinor"; readonly from: ParsedTag; readonly to: ParsedTag }
  | { readonly kind: "downgrade"; readonly from: ParsedTag; readonly to: ParsedTag }
  /** LG106: the form changed (variant parts, `v` prefix), or the same version is spelled differently. */
  | { readonly kind: "respelled"; readonly from: ParsedTag; readonly to: ParsedTag }
  | { readonly kind: "patchUpgrade"; readonly from: ParsedTag; readonly to: ParsedTag };

/**
 * Tags that are not strings are a shape problem (LG305) reported elsewhere; here they are read
 * as their text so that an old object stored before the webhook existed can still be compared.
 */
function tagText(value: unknown): string {
  return typeof value === "string" ? value : String(value);
}

export function classifyTagChange(oldTag: unknown, newTag: unknown): TagChange {
  const oldUnset = isUnsetTag(oldTag);
  const newUnset = isUnsetTag(newTag);
  if (oldUnset && newUnset) return { kind: "none" };
  if (oldUnset) return { kind: "added", to: tagText(newTag) };
  if (newUnset) return { kind: "removed", from: tagText(oldTag) };
  const from = tagText(oldTag);
  const to = tagText(newTag);
  if (from === to) return { kind: "none" };
  const a = parseTag(from);
  const b = parseTag(to);
  if (!a.ok || !b.ok) return { kind: "unorderable", from, to, which: [a, b].filter((p) => !p.ok) };
  if (a.tag.major !== b.tag.major || a.tag.minor !== b.tag.minor) return { kind: "majorMinor", from: a.tag, to: b.tag };
  // The strings differ (checked above): a different form, or the same version spelled another way
  // (1.24.2-solo → 1.24.2-patch0-solo), names another image whatever the numbers do.
  const order = compareTags(a.tag, b.tag);
  if (!sameForm(a.tag, b.tag) || order === 0) return { kind: "respelled", from: a.tag, to: b.tag };
  if (order > 0) return { kind: "downgrade", from: a.tag, to: b.tag };
  return { kind: "patchUpgrade", from: a.tag, to: b.tag };
}

/** The revision name the guide uses for a version: `1.24.2` → `1-24`. */
export function revisionNameFor(tag: ParsedTag): string {
  return `${tag.major}-${tag.minor}`;
}
