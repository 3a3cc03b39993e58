import { entryPath } from "../../lifecycle/model.js";
import { describeValue, firstDifference, formatPath, isEmpty, type PathSegment } from "../../lifecycle/values.js";
import { installationLabel, waysOut } from "../messages.js";
import { defineRule, memo, type Reporter, type RuleContext } from "../types.js";
import { inPlacePairs, suggestRevision, type InPlacePair } from "./pairs.js";

/** The only istioOperatorSpec keys that may change in place. */
const IN_PLACE_KEYS = new Set(["tag", "meshConfig"]);
/** Keys with a rule of their own; every other key falls to LG119. */
const NAMED_KEYS = new Set(["hub", "profile", "components", "values", "unvalidatedValues", "namespace"]);

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let value = root;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

interface Difference {
  readonly pair: InPlacePair;
  readonly key: string;
  /** Path below `istioOperatorSpec.<key>` of the first difference. */
  readonly inner: PathSegment[];
  readonly from: unknown;
  readonly to: unknown;
}

/**
 * Every istioOperatorSpec key that differs between paired entries, computed once per review (the
 * deep comparison is the engine's main cost) and shared by LG110-LG119, which each take their keys.
 */
function allDifferences(ctx: RuleContext): Difference[] {
  return memo(ctx, "allDifferences", computeDifferences);
}

function computeDifferences(ctx: RuleContext): Difference[] {
  const found: Difference[] = [];
  for (const pair of inPlacePairs(ctx)) {
    const oldSpec = pair.oldEntry.spec;
    const newSpec = pair.newEntry.spec;
    const compare = (key: string): void => {
      if (IN_PLACE_KEYS.has(key)) return;
      const inner = firstDifference(oldSpec[key], newSpec[key]);
      if (inner) found.push({ pair, key, inner, from: valueAt(oldSpec[key], inner), to: valueAt(newSpec[key], inner) });
    };
    for (const key in newSpec) compare(key);
    for (const key in oldSpec) if (!Object.hasOwn(newSpec, key)) compare(key);
  }
  return found;
}

function differences(ctx: RuleContext, keys: (key: string) => boolean): Difference[] {
  return allDifferences(ctx).filter((d) => keys(d.key));
}

function report(ctx: RuleContext, out: Reporter, d: Difference, what: string): void {
  const field = entryPath(d.pair.newEntry, "istioOperatorSpec", d.key, ...d.inner);
  out(field, `${installationLabel(ctx, d.pair.newEntry, d.pair.clusters)}: ${what} ${waysOut(ctx, suggestRevision(ctx, d.pair.newEntry.spec.tag))}`, {
    entry: d.pair.newEntry,
    object: "new",
  });
}

const change = (d: Difference): string => `${describeValue(d.from)} → ${describeValue(d.to)}`;

const base = { severity: "deny", operations: ["UPDATE"], skippable: true } as const;

export const LG110 = defineRule({ ...base, id: "LG110", summary: "A hub change needs a canary upgrade." }, (ctx, out) => {
  for (const d of differences(ctx, (k) => k === "hub")) {
    report(ctx, out, d, `hub ${change(d)} pulls images from another repository, which needs a canary upgrade.`);
  }
});

export const LG111 = defineRule({ ...base, id: "LG111", summary: "A profile change needs a canary upgrade." }, (ctx, out) => {
  for (const d of differences(ctx, (k) => k === "profile")) {
    report(ctx, out, d, `profile ${change(d)} changes what is installed, which needs a canary upgrade.`);
  }
});

/** A hub or tag override inside components looks like a patch bump to the user; say that it is not. */
function overrideNote(inner: readonly PathSegment[]): string {
  const last = inner[inner.length - 1];
  return last === "hub" || last === "tag" ? ` An image ${last} set inside components is a component change, not a patch upgrade: only istioOperatorSpec.tag is upgraded in place.` : "";
}

export const LG112 = defineRule({ ...base, id: "LG112", summary: "A components change needs a canary upgrade (including hub or tag overrides inside components)." }, (ctx, out) => {
  for (const d of differences(ctx, (k) => k === "components")) {
    const path = formatPath(["components", ...d.inner]);
    report(ctx, out, d, `${path} changed (${change(d)}), which needs a canary upgrade.${overrideNote(d.inner)}`);
  }
});

export const LG113 = defineRule({ ...base, id: "LG113", summary: "A values or unvalidatedValues change needs a canary upgrade." }, (ctx, out) => {
  for (const d of differences(ctx, (k) => k === "values" || k === "unvalidatedValues")) {
    const path = formatPath([d.key, ...d.inner]);
    report(ctx, out, d, `${path} changed (${change(d)}), which needs a canary upgrade.`);
  }
});

export const LG114 = defineRule({ ...base, id: "LG114", summary: "A namespace change needs a canary upgrade." }, (ctx, out) => {
  for (const d of differences(ctx, (k) => k === "namespace")) {
    report(ctx, out, d, `namespace ${change(d)} moves the installation, which needs a canary upgrade.`);
  }
});

export const LG119 = defineRule(
  { ...base, id: "LG119", summary: "Any other istioOperatorSpec key (not tag or meshConfig) changed: needs a canary upgrade." },
  (ctx, out) => {
    for (const d of differences(ctx, (k) => !IN_PLACE_KEYS.has(k) && !NAMED_KEYS.has(k))) {
      const path = formatPath([d.key, ...d.inner]);
      const what = isEmpty(d.pair.oldEntry.spec[d.key]) ? "was added" : isEmpty(d.pair.newEntry.spec[d.key]) ? "was removed" : "changed";
      report(ctx, out, d, `istioOperatorSpec.${d.key} ${what} (${path}: ${change(d)}); only tag patch upgrades and meshConfig apply in place, so this needs a canary upgrade.`);
    }
  },
);
