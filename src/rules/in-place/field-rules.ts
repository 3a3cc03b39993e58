import { entryPath, identicalGateways } from "../../lifecycle/model.js";
import { Comparer, describeValue, formatPath, isEmpty, ownValue, type PathSegment } from "../../lifecycle/values.js";
import { installationLabel, listNames, waysOut } from "../messages.js";
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
    value = ownValue(value as Record<string | number, unknown>, segment);
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
  const comparer = new Comparer(ctx.tick);
  for (const pair of inPlacePairs(ctx)) {
    const oldSpec = pair.oldEntry.spec;
    const newSpec = pair.newEntry.spec;
    const compare = (key: string): void => {
      if (IN_PLACE_KEYS.has(key)) return;
      const before = ownValue(oldSpec, key);
      const after = ownValue(newSpec, key);
      const inner = comparer.firstDifference(before, after);
      if (inner) found.push({ pair, key, inner, from: valueAt(before, inner), to: valueAt(after, inner) });
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
  const tag = ownValue(d.pair.newEntry.spec, "tag");
  // `plan` copies the live entry and changes tag and hub; other changes go on its canary entry.
  const plan = { tag, ...(d.key === "hub" ? { hub: ownValue(d.pair.newEntry.spec, "hub") } : {}) };
  out(field, `${installationLabel(ctx, d.pair.newEntry, d.pair.clusters)}: ${what} ${waysOut(ctx, suggestRevision(ctx, tag), plan)}`, {
    entry: d.pair.newEntry,
    object: "new",
  });
}

const change = (d: Difference): string => `${describeValue(d.from, 40)} → ${describeValue(d.to, 40)}`;

const base = { severity: "deny", operations: ["UPDATE"], skippable: true } as const;

export const LG110 = defineRule({ ...base, id: "LG110", summary: "A hub change needs a canary upgrade.", doc: { why: "The guide lists \"istioOperatorSpec.hub repository, such as switching to the repository for the minor version of the Solo distribution\" among the changes that need a canary upgrade.", example: {"before": "hub: us-docker.pkg.dev/gloo-mesh/istio-1-23", "after": "hub: us-docker.pkg.dev/gloo-mesh/istio-1-24"}, fix: "Do a canary upgrade: keep this entry, add a new entry with a new revision (for example 1-24) and defaultRevision/activeGateway false, verify it, switch the flag, move workloads, then remove the old entry. `lifecycle-guard plan --current live.yaml --tag <tag>` writes those steps." } }, (ctx, out) => {
  for (const d of differences(ctx, (k) => k === "hub")) report(ctx, out, d, `hub ${change(d)} changes the image repository.`);
});

export const LG111 = defineRule({ ...base, id: "LG111", summary: "A profile change needs a canary upgrade.", doc: { why: "The guide: \"Perform a canary upgrade when you change ... components, profile, values, or namespace in the istioOperatorSpec\".", example: {"before": "profile: minimal", "after": "profile: default"}, fix: "Do a canary upgrade: keep this entry, add a new entry with a new revision (for example 1-24) and defaultRevision/activeGateway false, verify it, switch the flag, move workloads, then remove the old entry. `lifecycle-guard plan --current live.yaml --tag <tag>` writes those steps." } }, (ctx, out) => {
  for (const d of differences(ctx, (k) => k === "profile")) report(ctx, out, d, `profile ${change(d)} changes what is installed.`);
});

/** A hub or tag override inside components looks like a patch bump to the user; say that it is not. */
function overrideNote(inner: readonly PathSegment[]): string {
  const last = inner[inner.length - 1];
  return last === "hub" || last === "tag" ? `: an image ${last} set inside components is not a patch bump` : "";
}

/** For GLM: a renamed or moved gateway is named old → new, which is what the user did. */
function gatewayChange(d: Difference): string | undefined {
  const before = d.pair.oldEntry.gateways;
  const after = d.pair.newEntry.gateways;
  if (before.length === 0 || after.length === 0 || identicalGateways(d.pair.oldEntry, d.pair.newEntry)) return undefined;
  return `gateway ${listNames(before, 2)} → ${listNames(after, 2)} is renamed or moved in place.`;
}

export const LG112 = defineRule({ ...base, id: "LG112", summary: "A components change needs a canary upgrade (including hub or tag overrides inside components, and renaming or moving a gateway).", doc: { why: "The guide names components among the canary-only fields. An image hub or tag set inside a component (components.pilot.tag, ingressGateways[].hub) looks like a patch bump but is a component change; renaming a gateway or moving it to another namespace under the same gatewayRevision replaces it in place.", example: {"before": "components:\n  pilot:\n    k8s:\n      replicaCount: 2", "after": "components:\n  pilot:\n    k8s:\n      replicaCount: 3"}, fix: "Do a canary upgrade: keep this entry, add a new entry with a new revision (for example 1-24) and defaultRevision/activeGateway false, verify it, switch the flag, move workloads, then remove the old entry. `lifecycle-guard plan --current live.yaml --tag <tag>` writes those steps." } }, (ctx, out) => {
  for (const d of differences(ctx, (k) => k === "components")) {
    report(ctx, out, d, gatewayChange(d) ?? `${formatPath(["components", ...d.inner])} changed (${change(d)})${overrideNote(d.inner)}.`);
  }
});

export const LG113 = defineRule({ ...base, id: "LG113", summary: "A values or unvalidatedValues change needs a canary upgrade.", doc: { why: "The guide names values among the canary-only fields; unvalidatedValues are values too.", example: {"before": "values:\n  global:\n    logging:\n      level: default:info", "after": "values:\n  global:\n    logging:\n      level: default:debug"}, fix: "Do a canary upgrade: keep this entry, add a new entry with a new revision (for example 1-24) and defaultRevision/activeGateway false, verify it, switch the flag, move workloads, then remove the old entry. `lifecycle-guard plan --current live.yaml --tag <tag>` writes those steps." } }, (ctx, out) => {
  for (const d of differences(ctx, (k) => k === "values" || k === "unvalidatedValues")) report(ctx, out, d, `${formatPath([d.key, ...d.inner])} changed (${change(d)}).`);
});

export const LG114 = defineRule({ ...base, id: "LG114", summary: "A namespace change needs a canary upgrade.", doc: { why: "The guide names namespace among the canary-only fields: the control plane would move under running workloads.", example: {"before": "namespace: istio-system", "after": "namespace: istio-canary"}, fix: "Do a canary upgrade: keep this entry, add a new entry with a new revision (for example 1-24) and defaultRevision/activeGateway false, verify it, switch the flag, move workloads, then remove the old entry. `lifecycle-guard plan --current live.yaml --tag <tag>` writes those steps." } }, (ctx, out) => {
  for (const d of differences(ctx, (k) => k === "namespace")) report(ctx, out, d, `namespace ${change(d)} moves the installation.`);
});

export const LG119 = defineRule(
  { ...base, id: "LG119", summary: "Any other istioOperatorSpec key (not tag or meshConfig) changed: needs a canary upgrade.", doc: { why: "The upgrade guide: \"If your installation is revisioned, in-place upgrades are triggered only when you apply changes to one of the following fields: istioOperatorSpec.tag patch version, istioOperatorSpec.meshConfig values. Otherwise, a canary upgrade is required.\" Any other key of istioOperatorSpec (revision, installPackagePath, addonComponents, resourceSuffix, ...) is therefore a canary change.", example: {"before": "installPackagePath: /a", "after": "installPackagePath: /b"}, fix: "Do a canary upgrade: keep this entry, add a new entry with a new revision (for example 1-24) and defaultRevision/activeGateway false, verify it, switch the flag, move workloads, then remove the old entry. `lifecycle-guard plan --current live.yaml --tag <tag>` writes those steps." } },
  (ctx, out) => {
    for (const d of differences(ctx, (k) => !IN_PLACE_KEYS.has(k) && !NAMED_KEYS.has(k))) {
      const what = isEmpty(ownValue(d.pair.oldEntry.spec, d.key)) ? "was added" : isEmpty(ownValue(d.pair.newEntry.spec, d.key)) ? "was removed" : "changed";
      report(ctx, out, d, `istioOperatorSpec.${formatPath([d.key, ...d.inner])} ${what} (${change(d)}); only tag and meshConfig change in place.`);
    }
  },
);
