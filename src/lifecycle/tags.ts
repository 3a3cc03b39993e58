import semver from "semver";

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
  /** Variant parts, sorted and de-duplicated: compared as a set. */
  readonly variants: readonly string[];
  /** Variant parts as written (`solo-fips`), for messages. */
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

/** Tags repeat across entries and reviews; parsing each distinct one once keeps large objects linear. */
const parsed = new Map<string, TagParse>();
const PARSE_CACHE_LIMIT = 4096;

export function parseTag(raw: string): TagParse {
  let result = parsed.get(raw);
  if (result) return result;
  result = parseTagUncached(raw);
  if (parsed.size >= PARSE_CACHE_LIMIT) parsed.clear();
  parsed.set(raw, result);
  return result;
}

function parseTagUncached(raw: string): TagParse {
  const fail = (reason: string): TagParse => ({ ok: false, raw, reason });
  const match = CORE.exec(raw);
  if (!match) return fail("it is not of the form MAJOR.MINOR.PATCH[-suffix]");
  const [, major, minor, patch, suffix] = match;
  let prerelease: string | undefined;
  let soloPatch: number | undefined;
  const variants = new Set<string>();
  const written: string[] = [];
  for (const part of suffix === undefined ? [] : suffix.split("-")) {
    const solo = SOLO_PATCH.exec(part);
    const pre = PRERELEASE.exec(part);
    if (solo) {
      if (soloPatch !== undefined) return fail(`it has two Solo patch levels`);
      soloPatch = Number(solo[1]);
    } else if (pre) {
      if (prerelease !== undefined) return fail(`it has two pre-release parts`);
      prerelease = pre[2] === undefined ? pre[1] : `${pre[1]}.${Number(pre[2])}`;
    } else if (/^(patch|alpha|beta|rc)/i.test(part) || !VARIANT.test(part)) {
      return fail(`its part "${part}" is neither a Solo patch level, a pre-release nor a variant`);
    } else {
      variants.add(part.toLowerCase());
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
      variants: [...variants].sort(),
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

export function sameVariants(a: ParsedTag, b: ParsedTag): boolean {
  return a.variants.length === b.variants.length && a.variants.every((v, i) => v === b.variants[i]);
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
  | { readonly kind: "variant"; readonly from: ParsedTag; readonly to: ParsedTag }
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
  const order = compareTags(a.tag, b.tag);
  if (order > 0) return { kind: "downgrade", from: a.tag, to: b.tag };
  if (order === 0) return sameVariants(a.tag, b.tag) ? { kind: "none" } : { kind: "variant", from: a.tag, to: b.tag };
  return { kind: "patchUpgrade", from: a.tag, to: b.tag };
}

/** The revision name the guide uses for a version: `1.24.2` → `1-24`. */
export function revisionNameFor(tag: ParsedTag): string {
  return `${tag.major}-${tag.minor}`;
}
