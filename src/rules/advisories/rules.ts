import { shown } from "../../lifecycle/text.js";
import { counterpart, entriesOn } from "../../lifecycle/matching.js";
import { clusterNames, entryPath, INSTALLATIONS_PATH, revisionLabel, type Entry } from "../../lifecycle/model.js";
import { compareTags, parseTag, type ParsedTag } from "../../lifecycle/tags.js";
import { deepEqual, describeValue, isEmpty, isPlainObject } from "../../lifecycle/values.js";
import { listNames } from "../messages.js";
import { defineRule } from "../types.js";

export const LG401 = defineRule(
  { id: "LG401", judgesState: true, severity: "warn", operations: ["CREATE", "UPDATE"], summary: "The object has a revisionless entry: for testing only, every change is applied in place.", doc: { why: "The guide: \"Revisionless (testing only): ... in-place upgrades are triggered when you apply changes to any field\". lifecycle-guard cannot protect a revisionless entry.", example: {"before": "- clusters: [{name: cluster1}]   # no revision", "after": ""}, fix: "Use revisioned entries outside of testing." } },
  (ctx, report) => {
    const entry = ctx.newObject.entries.find((e) => e.key === "");
    if (!entry) return;
    report(entryPath(entry), `entry ${entry.index} is revisionless (no ${ctx.kind.keyField}): for testing only; every change to it is applied in place, unchecked.`, undefined, undefined, ["revisionless"]);
  },
);

export const LG402 = defineRule(
  { id: "LG402", severity: "warn", operations: ["UPDATE"], summary: "An entry is skipped (skipUpgradeValidation: true) and upgrade rules were bypassed: names the bypassed rules.", doc: { why: "skipUpgradeValidation: true makes Gloo (and lifecycle-guard) apply a change in place that would otherwise need a canary. Many repositories set it permanently, which silently disables every check; so each bypass is reported.", example: {"before": "", "after": "skipUpgradeValidation: true"}, fix: "Remove skipUpgradeValidation once the deliberate change is applied; operators can make the webhook ignore it (SKIP_UPGRADE_VALIDATION=ignore) or honor it only for listed users." } },
  (ctx, report, prior) => {
    const byEntry = new Map<Entry, { object: "old" | "new"; rules: Set<string> }>();
    for (const finding of prior.bypassed) {
      const governed = finding.governedBy;
      if (!governed) continue;
      const slot = byEntry.get(governed.entry) ?? { object: governed.object, rules: new Set<string>() };
      slot.rules.add(finding.rule);
      byEntry.set(governed.entry, slot);
    }
    for (const [entry, { object, rules }] of byEntry) {
      const ids = [...rules].sort().join(", ");
      const where = object === "new" ? entryPath(entry, "skipUpgradeValidation") : INSTALLATIONS_PATH;
      report(where, `${ctx.kind.keyField} ${revisionLabel(entry.key)}: skipUpgradeValidation bypassed ${ids}; Gloo applies this change as is.`);
    }
  },
);

function hasDiscoverySelectors(entry: Entry): boolean {
  const meshConfig = entry.spec.meshConfig;
  return isPlainObject(meshConfig) && !isEmpty(meshConfig.discoverySelectors);
}

export const LG403 = defineRule(
  {
    id: "LG403",
    judgesState: true,
    severity: "warn",
    kinds: ["ILM"],
    operations: ["CREATE", "UPDATE"],
    summary: "Several revisions on one cluster use discoverySelectors: IGNORE_REVISIONS_FOR_VIRTUAL_DESTINATION_TRANSLATION is needed.", doc: { why: "The guide: \"If you plan to run multiple revisions of Istio in your cluster and use discoverySelectors in each revision ..., enable the glooMgmtServer.extraEnvs.IGNORE_REVISIONS_FOR_VIRTUAL_DESTINATION_TRANSLATION environment variable on the Gloo management server.\"", example: {"before": "", "after": "meshConfig:\n  discoverySelectors: [...]   # on one of two revisions"}, fix: "Set IGNORE_REVISIONS_FOR_VIRTUAL_DESTINATION_TRANSLATION in glooMgmtServer.extraEnvs." },
  },
  (ctx, report) => {
    // Read once per entry: an entry on many clusters is asked once per cluster.
    const selecting = new Set(ctx.newObject.entries.filter(hasDiscoverySelectors));
    const clusters = clusterNames(ctx.newObject).filter((cluster) => {
      const entries = entriesOn(ctx.newObject, cluster);
      return new Set(entries.map((e) => e.key)).size >= 2 && entries.some((e) => selecting.has(e));
    });
    if (clusters.length === 0) return;
    const entry = ctx.newObject.entries.find(hasDiscoverySelectors);
    report(
      entry ? entryPath(entry, "istioOperatorSpec", "meshConfig", "discoverySelectors") : INSTALLATIONS_PATH,
      `${listNames(clusters)}: several revisions with discoverySelectors; set IGNORE_REVISIONS_FOR_VIRTUAL_DESTINATION_TRANSLATION in glooMgmtServer.extraEnvs.`,
      undefined,
      undefined,
      clusters,
    );
  },
);

const MAX_MINOR_JUMP = 2;

function parsedTagOf(entry: Entry): ParsedTag | undefined {
  if (typeof entry.spec.tag !== "string") return undefined;
  const parsed = parseTag(entry.spec.tag);
  return parsed.ok ? parsed.tag : undefined;
}

export const LG404 = defineRule(
  { id: "LG404", severity: "warn", operations: ["UPDATE"], summary: "An added entry's tag is more than two minor versions above the newest existing revision on its cluster.", doc: { why: "Canary upgrades are supported across at most two minor versions; a larger jump needs intermediate upgrades.", example: {"before": "1-22 (1.22.x)", "after": "+ 1-25 (1.25.x)"}, fix: "Upgrade one or two minors at a time." } },
  (ctx, report) => {
    const old = ctx.oldObject;
    if (!old) return;
    // The newest pre-existing tag per cluster, found once per cluster rather than per added entry.
    const newestByCluster = new Map<string, ParsedTag | undefined>();
    const newestOn = (cluster: string): ParsedTag | undefined => {
      if (newestByCluster.has(cluster)) return newestByCluster.get(cluster);
      let newest: ParsedTag | undefined;
      for (const e of entriesOn(old, cluster)) {
        const t = parsedTagOf(e);
        if (t && (!newest || compareTags(t, newest) > 0)) newest = t;
      }
      newestByCluster.set(cluster, newest);
      return newest;
    };
    for (const entry of ctx.newObject.entries) {
      const tag = parsedTagOf(entry);
      if (!tag) continue;
      const tooFar: string[] = [];
      let newestSeen: ParsedTag | undefined;
      for (const { name: cluster } of entry.clusters) {
        if (counterpart(ctx, entry, cluster, old)) continue;
        const newest = newestOn(cluster);
        if (!newest) continue;
        const jump = tag.major !== newest.major ? Infinity : tag.minor - newest.minor;
        if (tag.major < newest.major || jump <= MAX_MINOR_JUMP) continue;
        tooFar.push(cluster);
        newestSeen = newest;
      }
      if (!newestSeen) continue;
      report(
        entryPath(entry, "istioOperatorSpec", "tag"),
        `${listNames(tooFar)}: new ${ctx.kind.keyField} ${revisionLabel(entry.key)} (${shown(tag.raw)}) is over ${MAX_MINOR_JUMP} minors above ${shown(newestSeen.raw)}; canary upgrades span at most ${MAX_MINOR_JUMP}.`,
      );
    }
  },
);

export const LG406 = defineRule(
  { id: "LG406", severity: "warn", kinds: ["GLM"], operations: ["UPDATE"], summary: "A GLM entry's controlPlaneRevision changes: its proxies move to another control plane when they restart.", doc: { why: "A gateway entry's controlPlaneRevision decides which istiod its proxies connect to; changing it moves them when they restart.", example: {"before": "controlPlaneRevision: 1-23", "after": "controlPlaneRevision: 1-24"}, fix: "Intended during a canary (the guide points canary gateways at the new revision); otherwise revert." } },
  (ctx, report) => {
    for (const entry of ctx.newObject.entries) {
      const before = new Set<Entry>();
      for (const { name } of entry.clusters) {
        const match = counterpart(ctx, entry, name, ctx.oldObject);
        if (match) before.add(match);
      }
      for (const oldEntry of before) {
        if (deepEqual(oldEntry.controlPlaneRevision, entry.controlPlaneRevision)) continue;
        report(
          entryPath(entry, "controlPlaneRevision"),
          `gatewayRevision ${revisionLabel(entry.key)}: controlPlaneRevision ${describeValue(oldEntry.controlPlaneRevision, 30)} → ${describeValue(entry.controlPlaneRevision, 30)}; its proxies switch control plane when they restart.`,
        );
      }
    }
  },
);
