import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/rules/engine.js";
import { lifecycleObject } from "../helpers/cases.js";

/** A tag built from parts, so the oracle below never parses a string the way the product does. */
interface TagParts {
  readonly v: boolean;
  readonly minor: number;
  readonly patch: number;
  readonly soloPatch: number | undefined;
  readonly variants: readonly string[];
}

const tagParts: fc.Arbitrary<TagParts> = fc.record({
  v: fc.boolean(),
  minor: fc.constantFrom(23, 24),
  patch: fc.integer({ min: 0, max: 3 }),
  soloPatch: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
  variants: fc.array(fc.constantFrom("solo", "SOLO", "fips", "distroless"), { maxLength: 3 }),
});

const write = (t: TagParts): string =>
  `${t.v ? "v" : ""}1.${t.minor}.${t.patch}${t.soloPatch === undefined ? "" : `-patch${t.soloPatch}`}${t.variants.map((v) => `-${v}`).join("")}`;

/** RULES.md, Tags: the only tag change allowed in place is a strict same-suffix patch upgrade. */
function strictSameSuffixPatchUpgrade(a: TagParts, b: TagParts): boolean {
  if (a.v !== b.v || a.minor !== b.minor || a.variants.join("-") !== b.variants.join("-")) return false;
  if (b.patch !== a.patch) return b.patch > a.patch;
  return (b.soloPatch ?? 0) > (a.soloPatch ?? 0);
}

function decide(from: string, to: string, skip = false): boolean {
  const entry = (tag: string, s: boolean) => ({ revision: "prod", ...(s ? { skipUpgradeValidation: true } : {}), clusters: [{ name: "cluster1", defaultRevision: true }], istioOperatorSpec: { hub: "h", tag } });
  return evaluate({
    operation: "UPDATE",
    group: "admin.gloo.solo.io",
    kind: "IstioLifecycleManager",
    oldObject: lifecycleObject("ILM", [entry(from, false)]),
    newObject: lifecycleObject("ILM", [entry(to, skip)]),
  }).allowed;
}

describe("tag changes, as a property", () => {
  it("a changed tag string on a revisioned, non-skipped entry is allowed only as a strict same-suffix patch upgrade", () => {
    fc.assert(
      fc.property(tagParts, tagParts, (a, b) => {
        const from = write(a);
        const to = write(b);
        fc.pre(from !== to);
        expect(decide(from, to), `${from} → ${to}`).toBe(strictSameSuffixPatchUpgrade(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it("any other string, however close to a version, is never allowed in place", () => {
    const junk = fc.string({ unit: fc.constantFrom("1", "2", "3", ".", "-", "v", "solo", "patch", "rc", "latest", "@", ":"), minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(tagParts, junk, (a, b) => {
        const from = write(a);
        fc.pre(from !== b && !/^v?1\.(23|24)\.\d+(-patch\d+)?(-[A-Za-z]+)*$/.test(b));
        expect(decide(from, b), `${from} → ${b}`).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it("a skipped entry may change its tag any way (the bypass is reported)", () => {
    fc.assert(fc.property(tagParts, tagParts, (a, b) => {
          expect(decide(write(a), write(b), true)).toBe(true);
        }), { numRuns: 300 });
  });
});
