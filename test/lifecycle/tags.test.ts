import { describe, expect, it } from "vitest";
import { classifyTagChange, compareTags, parseTag, type ParsedTag } from "../../src/lifecycle/tags.js";

function parsed(raw: string): ParsedTag {
  const result = parseTag(raw);
  if (!result.ok) throw new Error(`${raw}: ${result.reason}`);
  return result.tag;
}

describe("tag ordering", () => {
  // Each row: a < b.
  it.each([
    ["1.24.1-patch3-solo", "1.24.2-solo", "a higher patch beats any Solo patch level"],
    ["1.24.2-solo", "1.24.2-patch1-solo", "patchN is newer than no patch level (semver gets this backwards)"],
    ["1.24.2-patch1-solo", "1.24.2-patch2-solo", "Solo patch levels order numerically"],
    ["1.24.2-patch9-solo", "1.24.2-patch10-solo", "numerically, not lexically"],
    ["1.24.0-alpha", "1.24.0-alpha.1", "a numbered pre-release is after the bare one"],
    ["1.24.0-alpha.2", "1.24.0-beta.1", "alpha before beta"],
    ["1.24.0-beta.3", "1.24.0-rc.0", "beta before rc"],
    ["1.24.0-rc.2", "1.24.0-rc.10", "pre-release numbers order numerically"],
    ["1.24.0-rc.1", "1.24.0", "a pre-release is before its release"],
    ["1.24.0-rc.1-solo", "1.24.0-solo", "with a variant, too"],
    ["1.23.9", "1.24.0", "minor"],
    ["1.9.0", "1.10.0", "minor numerically"],
  ])("%s < %s (%s)", (a, b) => {
    expect(compareTags(parsed(a), parsed(b))).toBe(-1);
    expect(compareTags(parsed(b), parsed(a))).toBe(1);
  });

  it.each([
    ["1.24.2-solo", "1.24.2-patch0-solo"],
    ["v1.24.2", "1.24.2"],
    ["1.24.2-solo-fips", "1.24.2-fips-solo"],
    ["1.24.0-rc1", "1.24.0-rc.1"],
  ])("%s and %s order the same", (a, b) => {
    expect(compareTags(parsed(a), parsed(b))).toBe(0);
  });

  it.each([
    ["latest", "not MAJOR.MINOR.PATCH"],
    ["1.24", "not MAJOR.MINOR.PATCH"],
    ["1.24-alpha.3f2a9c1de", "not MAJOR.MINOR.PATCH"],
    ["sha256:0f1e2d", "not MAJOR.MINOR.PATCH"],
    ["1.24.2@sha256:0f1e", "not MAJOR.MINOR.PATCH"],
    ["1.24.2-alpha.3f2a9c1", 'part "alpha.3f2a9c1"'],
    ["1.24.2-patchX-solo", 'part "patchX"'],
    ["1.24.2-patch1-patch2", "two Solo patch levels"],
    ["1.24.2-20240101", 'part "20240101"'],
    ["01.24.2", "not MAJOR.MINOR.PATCH"],
  ])("%s cannot be ordered (%s)", (raw, reason) => {
    const result = parseTag(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it("reads the variant parts as a set and keeps them as written for messages", () => {
    const tag = parsed("v1.24.2-patch1-solo-fips");
    expect(tag).toMatchObject({ major: 1, minor: 24, patch: 2, soloPatch: 1, prerelease: undefined, vPrefix: true, variantText: "solo-fips" });
  });
});

describe("tag change classification", () => {
  it.each([
    ["1.24.1-solo", "1.24.2-solo", "patchUpgrade"],
    ["1.24.2-solo", "1.24.2-patch1-solo", "patchUpgrade"],
    ["1.24.2-solo", "1.24.3-solo-fips", "respelled"],
    ["1.23.4-solo", "1.23.5", "respelled"],
    ["1.23.4-solo", "1.23.5-SOLO", "respelled"],
    ["1.23.4-solo", "v1.23.5-solo", "respelled"],
    ["1.23.4-solo", "1.23.5-solo-solo", "respelled"],
    ["1.24.2-solo", "1.24.2-patch0-solo", "respelled"],
    ["1.24.2-solo", "1.24.2-solo", "none"],
    ["1.27.3-patch0-solo-fips-distroless", "1.27.3-patch1-solo-distroless-fips", "respelled"],
    ["1.27.3-patch0-solo-fips-distroless", "1.27.3-patch1-solo-fips-distroless", "patchUpgrade"],
    ["1.23.4-solo", "1.23.3", "respelled"],
    ["1.24.2-patch1-solo", "1.24.2-solo", "downgrade"],
    ["1.24.3", "1.24.3-rc.1", "downgrade"],
    ["1.23.4", "1.24.0", "majorMinor"],
    ["1.24.0", "1.23.9", "majorMinor"],
    ["1.24.2-solo", "1.24.2-solo-fips", "respelled"],
    ["1.24.2", "latest", "unorderable"],
    ["", "1.24.2", "added"],
    ["auto", "1.24.2", "added"],
    [null, "1.24.2", "added"],
    ["1.24.2", "", "removed"],
    ["1.24.2", "auto", "removed"],
    ["auto", "", "none"],
    [undefined, null, "none"],
  ])("%s → %s is %s", (from, to, kind) => {
    expect(classifyTagChange(from, to).kind).toBe(kind);
  });
});
