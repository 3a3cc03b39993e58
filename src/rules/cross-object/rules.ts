import { shown } from "../../lifecycle/text.js";
import { GLM, ILM, type LifecycleKind } from "../../lifecycle/kinds.js";
import { counterpart, entriesOn } from "../../lifecycle/matching.js";
import { entriesWith, entryPath, flagOn, revisionLabel, type Entry } from "../../lifecycle/model.js";
import { flagPath, removalPath } from "../defaults/analysis.js";
import { listNames } from "../messages.js";
import { defineRule, type ClusterObject, type RuleContext } from "../types.js";

const clusterRule = { needsCluster: true } as const;

/** Objects of `kind` in the cluster other than the one under review. */
function others(ctx: RuleContext, kind: LifecycleKind): readonly ClusterObject[] {
  return ctx.cluster.objects(kind).filter((o) => !(kind.kind === ctx.kind.kind && o.namespace === ctx.namespace && o.name === ctx.name));
}

const label = (o: ClusterObject): string => `${o.object.kind.kind} ${shown(`${o.namespace}/${o.name}`)}`;

/** The control plane revision a gateway entry runs on: controlPlaneRevision, else its own revision. */
function controlPlaneOf(entry: Entry): string {
  return typeof entry.controlPlaneRevision === "string" && entry.controlPlaneRevision !== "" ? entry.controlPlaneRevision : entry.key;
}

export const LG501 = defineRule(
  { ...clusterRule, id: "LG501", severity: "warn", kinds: ["ILM"], operations: ["CREATE", "UPDATE"], summary: "Another ILM in the cluster makes a different revision default for a cluster this object makes default.", doc: { why: "Two IstioLifecycleManagers making different revisions default for the same cluster leave the default ambiguous.", fix: "Keep one default per cluster across all lifecycle managers." } },
  (ctx, report) => {
    for (const entry of ctx.newObject.entries) {
      for (const { name: cluster, flag } of entry.clusters) {
        if (!flag) continue;
        for (const other of others(ctx, ILM)) {
          const theirs = entriesOn(other.object, cluster).filter((e) => e.key !== entry.key && flagOn(e, cluster));
          if (theirs.length === 0) continue;
          report(
            flagPath(ctx, entry, cluster),
            `${shown(cluster)}: ${label(other)} makes revision ${listNames(theirs.map((e) => revisionLabel(e.key)))} default, and this object makes ${revisionLabel(entry.key)} default; keep one default per cluster.`,
          );
        }
      }
    }
  },
);

export const LG502 = defineRule(
  { ...clusterRule, id: "LG502", severity: "warn", kinds: ["GLM"], operations: ["CREATE", "UPDATE"], summary: "A GLM entry's control plane revision is not installed by any ILM on that cluster.", doc: { why: "Gloo creates no gateway when the control plane revision it uses is not found on that cluster.", example: {"before": "", "after": "controlPlaneRevision: 1-25   # no ILM installs 1-25 on cluster1"}, fix: "Install the control plane revision first (the ILM), then point gateways at it." } },
  (ctx, report) => {
    const ilms = others(ctx, ILM);
    for (const entry of ctx.newObject.entries) {
      const revision = controlPlaneOf(entry);
      if (revision === "") continue; // a revisionless gateway uses the default control plane
      const missing = entry.clusters.map((c) => c.name).filter((cluster) => !ilms.some((o) => entriesWith(o.object, revision, cluster).length > 0));
      if (missing.length === 0) continue;
      const field = typeof entry.controlPlaneRevision === "string" && entry.controlPlaneRevision !== "" ? "controlPlaneRevision" : GLM.keyField;
      report(
        entryPath(entry, field),
        `${listNames(missing)}: no IstioLifecycleManager installs revision ${revisionLabel(revision)}, which gatewayRevision ${revisionLabel(entry.key)} uses; Gloo creates no gateway there until it does.`,
      );
    }
  },
);

export const LG503 = defineRule(
  { ...clusterRule, id: "LG503", severity: "deny", kinds: ["ILM"], operations: ["UPDATE"], summary: "An UPDATE removes an ILM revision from a cluster while a GLM entry still uses it there.", doc: { why: "Removing a control plane revision that a gateway still uses leaves the gateway without a control plane.", example: {"before": "ILM: 1-23 on cluster1; GLM gateway uses 1-23", "after": "ILM: 1-23 removed"}, fix: "Move the gateway to another control plane (controlPlaneRevision) or remove it first." } },
  (ctx, report) => {
    const old = ctx.oldObject;
    if (!old) return;
    const otherIlms = others(ctx, ILM);
    const glms = ctx.cluster.objects(GLM);
    for (const oldEntry of old.entries) {
      if (oldEntry.key === "") continue;
      for (const { name: cluster } of oldEntry.clusters) {
        if (counterpart(ctx, oldEntry, cluster, ctx.newObject)) continue;
        // Still installed on that cluster by another entry of this object or by another ILM: not removed.
        if (entriesWith(ctx.newObject, oldEntry.key, cluster).length > 0) continue;
        if (otherIlms.some((o) => entriesWith(o.object, oldEntry.key, cluster).length > 0)) continue;
        for (const glm of glms) {
          const users = entriesOn(glm.object, cluster).filter((e) => controlPlaneOf(e) === oldEntry.key);
          if (users.length === 0) continue;
          report(
            removalPath(ctx, oldEntry),
            `revision ${revisionLabel(oldEntry.key)} is removed from ${shown(cluster)} while ${label(glm)} (gatewayRevision ${listNames(users.map((e) => revisionLabel(e.key)))}) still uses it there. Move that gateway (controlPlaneRevision) or remove it first.`,
          );
        }
      }
    }
  },
);
