import { counterpart } from "../../lifecycle/matching.js";
import { entryPath, flagOn, revisionLabel, type Entry, type InstallationState } from "../../lifecycle/model.js";
import { classifyTagChange } from "../../lifecycle/tags.js";
import { shown } from "../../lifecycle/text.js";
import { flagPath } from "../defaults/analysis.js";
import { inPlacePairs } from "../in-place/pairs.js";
import { defineRule, memo, type RuleContext } from "../types.js";
import { Comparer } from "../../lifecycle/values.js";

const HEALTHY = "HEALTHY";

/** The command that waits until Gloo reports the revision HEALTHY on the cluster. */
export function waitCommand(ctx: Pick<RuleContext, "kind" | "namespace" | "name">, cluster: string, revision: string): string {
  const namespace = ctx.namespace ? ` -n ${shown(ctx.namespace)}` : "";
  return `kubectl wait ${ctx.kind.kind.toLowerCase()}/${shown(ctx.name)}${namespace} --for=jsonpath='{.status.clusters.${shown(cluster)}.installations.${shown(revision)}.state}'=${HEALTHY} --timeout=15m`;
}

/** An installation that becomes default/active on a cluster in this edit. */
interface Switch {
  readonly entry: Entry;
  readonly cluster: string;
  /** Gloo's report for it in the old object's status; undefined: the status has that cluster but not this revision. */
  readonly reported: InstallationState | undefined;
}

/**
 * Installations becoming default/active, with what the old object's status says of them. Empty
 * when the old object has no status at all (a file from Git) or does not list the cluster.
 */
function switches(ctx: RuleContext): readonly Switch[] {
  return memo(ctx, "healthSwitches", (c) => {
    const status = c.oldObject?.status;
    if (c.operation !== "UPDATE" || !c.oldObject || !status) return [];
    const found: Switch[] = [];
    for (const entry of c.newObject.entries) {
      for (const { name: cluster, flag } of entry.clusters) {
        if (!flag) continue;
        c.tick();
        const before = counterpart(c, entry, cluster, c.oldObject);
        if (before && flagOn(before, cluster)) continue;
        const onCluster = status.get(cluster);
        if (!onCluster) continue;
        found.push({ entry, cluster, reported: onCluster.get(entry.key) });
      }
    }
    return found;
  });
}

const stateText = (reported: InstallationState): string =>
  `${shown(reported.state ?? "no state", 40)}${reported.message ? ` (${shown(reported.message, 60)})` : ""}`;

export const LG601 = defineRule(
  {
    id: "LG601",
    severity: "deny",
    operations: ["UPDATE"],
    skippable: true,
    summary: "A revision becomes default/active on a cluster where Gloo's status says it is not HEALTHY.",
    doc: {
      why: 'The guide verifies the canary before switching to it ("After performing any necessary testing, switch to the new istiod control plane revision"). Gloo reports each installation\'s state in the object\'s status; switching to a revision that is not HEALTHY there sends workloads or traffic to a control plane or gateway that is not running.',
      example: { before: "status: 1-24 INSTALLING_CONTROL_PLANE on cluster1", after: "1-24: defaultRevision: true on cluster1", instead: "kubectl wait ... --for=jsonpath='{.status.clusters.cluster1.installations.1-24.state}'=HEALTHY, then switch" },
      fix: "Wait until the revision is HEALTHY on that cluster (the message gives the kubectl wait command), then switch. Switching back to a HEALTHY revision is never held.",
      bypass: "skipUpgradeValidation: true on the entry that becomes default/active (a deliberate emergency switch), unless the operator's policy ignores the flag; LG402 reports it.",
    },
  },
  (ctx, report) => {
    for (const { entry, cluster, reported } of switches(ctx)) {
      if (!reported?.state || reported.state === HEALTHY || reported.state === "UNKNOWN") continue;
      report(
        flagPath(ctx, entry, cluster),
        `${shown(cluster)}: ${ctx.kind.keyField} ${revisionLabel(entry.key)} becomes ${ctx.kind.flagAdjective} while Gloo reports it ${stateText(reported)}. Wait first: ${waitCommand(ctx, cluster, entry.key)}`,
        { entry, object: "new" },
      );
    }
  },
);

export const LG602 = defineRule(
  {
    id: "LG602",
    severity: "warn",
    operations: ["UPDATE"],
    summary: "A revision becomes default/active on a cluster whose status reports no state (or UNKNOWN) for it.",
    doc: {
      why: "The object's status lists the cluster but has no state for the revision that becomes default/active there (or says UNKNOWN): nobody knows whether it runs. When the old object has no status at all (a file from Git), the health rules say nothing.",
      fix: "Check the installation (kubectl get all -n gm-iop-<revision> on that cluster) before relying on it.",
    },
  },
  (ctx, report) => {
    for (const { entry, cluster, reported } of switches(ctx)) {
      if (reported?.state && reported.state !== "UNKNOWN") continue;
      report(flagPath(ctx, entry, cluster), `${shown(cluster)}: ${ctx.kind.keyField} ${revisionLabel(entry.key)} becomes ${ctx.kind.flagAdjective} with no known state there in Gloo's status; verify it first.`);
    }
  },
);

export const LG603 = defineRule(
  {
    id: "LG603",
    severity: "warn",
    operations: ["UPDATE"],
    summary: "An in-place change (tag patch upgrade, meshConfig) to an installation that is not HEALTHY.",
    doc: {
      why: "Gloo is still reconciling the installation, or failed: an in-place change on top of that makes the outcome harder to read and to roll back.",
      fix: "Look at the status message first (kubectl get istiolifecyclemanager <name> -o yaml), and let Gloo settle.",
    },
  },
  (ctx, report) => {
    const status = ctx.oldObject?.status;
    if (!status) return;
    const comparer = new Comparer(ctx.tick);
    for (const pair of inPlacePairs(ctx)) {
      const tagChanged = classifyTagChange(pair.oldEntry.spec.tag, pair.newEntry.spec.tag).kind === "patchUpgrade";
      if (!tagChanged && !comparer.firstDifference(pair.oldEntry.spec.meshConfig, pair.newEntry.spec.meshConfig)) continue;
      const unhealthy = pair.clusters.flatMap((cluster) => {
        const reported = status.get(cluster)?.get(pair.oldEntry.key);
        return reported?.state && reported.state !== HEALTHY ? [{ cluster, reported }] : [];
      });
      const first = unhealthy[0];
      if (!first) continue;
      const more = unhealthy.length > 1 ? ` (and ${unhealthy.length - 1} more clusters)` : "";
      report(
        entryPath(pair.newEntry, "istioOperatorSpec", tagChanged ? "tag" : "meshConfig"),
        `${shown(first.cluster)}${more}: ${ctx.kind.keyField} ${revisionLabel(pair.newEntry.key)} is changed in place while Gloo reports it ${stateText(first.reported)}; look at the status first.`,
      );
    }
  },
);
