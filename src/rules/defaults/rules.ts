import { counterpart, entriesOn } from "../../lifecycle/matching.js";
import { clusterNames, entryPath, flagOn, NAMELESS, revisionLabel, type Entry } from "../../lifecycle/model.js";
import { shown } from "../../lifecycle/text.js";
import { listNames, listRevisions, planCommand } from "../messages.js";
import { defineRule, type RuleContext } from "../types.js";
import { addedFlaggedInstallations, flaggedInstallations, flagPath, gatewayLabel, removalPath } from "./analysis.js";
import { sideSummaries } from "./summaries.js";

const revs = (ctx: RuleContext, entries: readonly Entry[]): string => {
  const names = [...new Set(entries.map((e) => revisionLabel(e.key)))];
  return `${ctx.kind.keyField}${names.length === 1 ? "" : "s"} ${listNames(names, 4)}`;
};

export const LG201 = defineRule(
  { id: "LG201", judgesState: true, severity: "warn", kinds: ["ILM"], operations: ["CREATE", "UPDATE"], summary: "Two or more ILM entries are defaultRevision for the same cluster.", doc: { why: "Two revisions both defaultRevision: true on one cluster leave the default injection and the default control plane ambiguous. The guide keeps the existing revision default while the canary runs with defaultRevision: false.", example: {"before": "- revision: 1-23\n  clusters: [{name: cluster1, defaultRevision: true}]", "after": "- revision: 1-24\n  clusters: [{name: cluster1, defaultRevision: true}]  # as well"}, fix: "Keep exactly one revision default per cluster: set defaultRevision: false on the canary until you switch." } },
  (ctx, report) => {
    for (const cluster of clusterNames(ctx.newObject)) {
      const flagged = entriesOn(ctx.newObject, cluster).filter((e) => flagOn(e, cluster));
      const last = flagged[flagged.length - 1];
      if (flagged.length < 2 || !last) continue;
      const verb = flagged.length === 2 ? "are both" : "are all";
      report(flagPath(ctx, last, cluster), `${shown(cluster)}: revisions ${listNames(flagged.map((e) => revisionLabel(e.key)), 4)} ${verb} defaultRevision; keep exactly one.`, undefined, undefined, [cluster]);
    }
  },
);

export const LG202 = defineRule(
  { id: "LG202", judgesState: true, severity: "warn", kinds: ["GLM"], operations: ["CREATE", "UPDATE"], summary: "Two or more GLM entries of the same gateway are activeGateway for the same cluster.", doc: { why: "Two gateway revisions of the same gateway both activeGateway: true on one cluster make the active (unrevisioned) gateway Service ambiguous. The guide adds the canary with activeGateway: false.", example: {"before": "two entries of gateway gw/ingress, both activeGateway: true", "after": ""}, fix: "Keep one active revision per gateway and cluster." } },
  (ctx, report) => {
    for (const cluster of clusterNames(ctx.newObject)) {
      const active = entriesOn(ctx.newObject, cluster).filter((e) => flagOn(e, cluster));
      // Active entries per gateway group: a group with two, or any besides a nameless one, conflict.
      const perGroup = new Map<number, number>();
      for (const e of active) perGroup.set(e.group, (perGroup.get(e.group) ?? 0) + 1);
      const nameless = perGroup.get(NAMELESS) ?? 0;
      const conflicting = active.filter((e) => (e.group === NAMELESS ? active.length >= 2 : (perGroup.get(e.group) ?? 0) >= 2 || nameless > 0));
      const last = conflicting[conflicting.length - 1];
      if (!last) continue;
      const gateways = [...new Set(conflicting.slice(0, 4).flatMap((e) => e.gateways))];
      const which = gateways.length > 0 ? ` for gateway ${listNames(gateways, 2)}` : "";
      report(flagPath(ctx, last, cluster), `${shown(cluster)}: ${revs(ctx, conflicting)} are ${conflicting.length === 2 ? "both" : "all"} activeGateway${which}; keep one active per gateway.`, undefined, undefined, [`${cluster}\u0000${gateways.join(",")}`]);
    }
  },
);

export const LG203 = defineRule(
  {
    id: "LG203",
    severity: "deny",
    operations: ["UPDATE"],
    skippable: true,
    summary: "A default/active installation is renamed in place, swapped for a revision this edit adds, or replaced wholesale: the new one never ran as a canary.", doc: { why: "The guide runs the new revision beside the old one, verifies it, then switches defaultRevision/activeGateway, relabels and restarts workloads, and only then removes the old entry. Renaming the default revision in one edit, swapping the default to a revision this edit adds, or replacing it wholesale skips the canary: the new revision takes the traffic without ever having run.", example: {"before": "- revision: 1-23\n  clusters: [{name: cluster1, defaultRevision: true}]", "after": "- revision: 1-24\n  clusters: [{name: cluster1, defaultRevision: true}]", "instead": "keep 1-23, add 1-24 with defaultRevision: false; switch later"}, fix: "Keep the old entry, add the new one beside it with the flag false, switch once it is verified, then remove the old entry (four edits; `lifecycle-guard plan` writes them).", bypass: "skipUpgradeValidation: true on the removed entry, set in an earlier edit (read from the old object), unless the operator's policy ignores the flag. LG402 reports the bypass." },
  },
  (ctx, report) => {
    const key = ctx.kind.keyField;
    const flag = ctx.kind.flagField;
    for (const { oldEntry, cluster, fate } of flaggedInstallations(ctx)) {
      if (fate.kind !== "swappedToNew" && fate.kind !== "replaced") continue;
      const old = revisionLabel(oldEntry.key);
      const where = `${shown(cluster)}${gatewayLabel(oldEntry)}`;
      const governedBy = { entry: oldEntry, object: "old" as const };
      const newcomer = fate.renamedTo ?? (fate.kind === "swappedToNew" ? fate.to : fate.remaining).first[0];
      const plan = newcomer ? `; ${planCommand({ tag: newcomer.spec.tag, revision: newcomer.key })} writes the steps` : "";
      if (fate.renamedTo) {
        const renamed = revisionLabel(fate.renamedTo.key);
        report(entryPath(fate.renamedTo, key), `${where}: ${key} ${old} was renamed to ${renamed} in one edit; keep ${old} and add ${renamed} as a new entry${plan}.`, governedBy);
      } else if (fate.kind === "swappedToNew") {
        const to = listRevisions(fate.to);
        report(removalPath(ctx, oldEntry), `${where}: ${ctx.kind.flagAdjective} ${key} ${old} is removed in the edit that adds ${to} as ${flag}: it never ran as a canary. Keep ${old}, add ${to} with ${flag}: false${plan}.`, governedBy);
      } else {
        const to = listRevisions(fate.remaining);
        report(removalPath(ctx, oldEntry), `${where}: ${ctx.kind.flagAdjective} ${key} ${old} is replaced by ${to} in one edit. Keep ${old}, add ${to} beside it with ${flag}: false${plan}.`, governedBy);
      }
    }
  },
);

export const LG204 = defineRule(
  { id: "LG204", severity: "warn", operations: ["UPDATE"], summary: "A cluster that had a revision has none after this edit (uninstall).", doc: { why: "A cluster that had a revision and has none after the edit is an uninstall: Gloo removes the control plane (or gateway) there.", example: {"before": "clusters: [{name: cluster1}, {name: cluster2}]", "after": "clusters: [{name: cluster2}]"}, fix: "If that is not intended, keep the cluster listed." } },
  (ctx, report) => {
    const old = ctx.oldObject;
    if (!old) return;
    const { newSide, oldSide } = sideSummaries(ctx);
    const seen = new Set<string>();
    for (const oldEntry of old.entries) {
      for (const { name: cluster } of oldEntry.clusters) {
        ctx.tick();
        // The O(1) check first: in the usual edit every installation is still there.
        if (counterpart(ctx, oldEntry, cluster, ctx.newObject) || newSide.on(cluster, oldEntry).all.count > 0) continue;
        const identity = `${cluster}\u0000${ctx.kind.short === "GLM" ? oldEntry.gateways.join() : ""}`;
        if (seen.has(identity)) continue;
        seen.add(identity);
        const removed = oldSide.on(cluster, oldEntry).all;
        const what = ctx.kind.short === "GLM" ? `no gateway${gatewayLabel(oldEntry)} remains` : "no Istio revision remains";
        report(removalPath(ctx, oldEntry), `${shown(cluster)}: ${what} after this edit (${ctx.kind.keyField} ${listRevisions(removed)} removed); Gloo uninstalls it there.`);
      }
    }
  },
);

export const LG205 = defineRule(
  { id: "LG205", severity: "warn", operations: ["UPDATE"], summary: "The default/active flag moves to an entry this edit adds (it never ran as a canary).", doc: { why: "The flag moved to a revision this edit adds: it never ran as a canary before taking the default or active role.", example: {"before": "1-23 default", "after": "1-24 (new) default, 1-23 removed or not default"}, fix: "Add the new revision with the flag false first, verify it, then switch." } },
  (ctx, report) => {
    for (const { entry, cluster, oldFlagged, staying } of addedFlaggedInstallations(ctx)) {
      if (oldFlagged.count === 0 || staying.count > 0) continue;
      report(
        flagPath(ctx, entry, cluster),
        `${shown(cluster)}: ${ctx.kind.flagField} moves from ${listRevisions(oldFlagged)} to ${revisionLabel(entry.key)}, which this edit adds and never ran as a canary.`,
      );
    }
  },
);

export const LG206 = defineRule(
  { id: "LG206", severity: "warn", operations: ["UPDATE"], summary: "An added entry is default/active on a cluster where a pre-existing entry stays default/active.", doc: { why: "The guide: \"For the canary revision, be sure to set defaultRevision to false so that only the existing revision continues to run.\"", example: {"before": "", "after": "- revision: 1-24   # new\n  clusters: [{name: cluster1, defaultRevision: true}]"}, fix: "Add the canary with defaultRevision (or activeGateway) false; the optional /mutate webhook can do that for you." } },
  (ctx, report) => {
    for (const { entry, cluster, staying } of addedFlaggedInstallations(ctx)) {
      if (staying.count === 0) continue;
      report(
        flagPath(ctx, entry, cluster),
        `${shown(cluster)}: new ${ctx.kind.keyField} ${revisionLabel(entry.key)} is added with ${ctx.kind.flagField}: true while ${listRevisions(staying)} stays ${ctx.kind.flagAdjective}; add the canary with ${ctx.kind.flagField}: false.`,
      );
    }
  },
);

/** What loses its control plane (ILM) or gateway (GLM) when an old revision goes before its users moved. */
function strandedUsers(ctx: RuleContext, movedTo: string, removed: string): string {
  return ctx.kind.short === "ILM"
    ? `workloads not yet moved to ${movedTo} (still istio.io/rev=${removed}) lose their control plane`
    : `traffic not yet moved to ${movedTo} loses its gateway`;
}

export const LG207 = defineRule(
  {
    id: "LG207",
    severity: "warn",
    operations: ["UPDATE"],
    summary: "A default/active installation is removed in the same edit that makes another, pre-existing revision default/active: workloads not yet moved to it lose their control plane.", doc: { why: "Switching the default and removing the old revision in one edit: workloads not yet moved to the new revision (still labelled istio.io/rev=<old>) lose their control plane. The guide switches, relabels namespaces and restarts workloads one at a time, and only then removes the old entry. Many teams have moved them already; hence a warning.", example: {"before": "1-23 default, 1-24 not default", "after": "1-24 default, 1-23 removed"}, fix: "Switch in one edit, relabel and restart, then remove the old entry in another." },
  },
  (ctx, report) => {
    for (const { oldEntry, cluster, fate } of flaggedInstallations(ctx)) {
      if (fate.kind !== "switchedAndRemoved") continue;
      const old = revisionLabel(oldEntry.key);
      const to = listRevisions(fate.to);
      report(removalPath(ctx, oldEntry), `${shown(cluster)}: ${old} is removed in the edit that makes ${to} ${ctx.kind.flagAdjective}; ${strandedUsers(ctx, to, old)}.`);
    }
  },
);

export const LG208 = defineRule(
  {
    id: "LG208",
    severity: "warn",
    operations: ["UPDATE"],
    summary: "A default/active installation is removed while a pre-existing revision remains and none is default/active afterwards (Solo's labs do this after relabelling namespaces; istio-injection=enabled namespaces get no sidecar).", doc: { why: "The default (or active) revision is removed while another pre-existing revision stays and none is default afterwards. Solo's own 2.x labs do this after relabelling every namespace istio.io/rev=<new>, so it is not denied; but namespaces that rely on the default (istio-injection=enabled, no istio.io/rev) get no sidecar from now on, and workloads not yet moved lose their control plane. For gateways, no active revision is common (custom Services select the revision).", example: {"before": "1-23 default, 1-24 not default", "after": "1-24 only, not default"}, fix: "Make the remaining revision default if namespaces rely on the default injection; check no workload still uses istio.io/rev=<old>." },
  },
  (ctx, report) => {
    for (const { oldEntry, cluster, fate } of flaggedInstallations(ctx)) {
      if (fate.kind !== "noneFlagged") continue;
      const old = revisionLabel(oldEntry.key);
      if (ctx.kind.short === "GLM") {
        // No active gateway is common (custom Services select the revision): say only what went.
        report(removalPath(ctx, oldEntry), `${shown(cluster)}: active gatewayRevision ${old}${gatewayLabel(oldEntry)} is removed; no gateway revision is active there now.`);
        continue;
      }
      const remaining = listRevisions(fate.remaining);
      report(
        removalPath(ctx, oldEntry),
        `${shown(cluster)}: default revision ${old} is removed and none is default now: istio-injection=enabled namespaces get no sidecar; ${strandedUsers(ctx, remaining, old)}.`,
      );
    }
  },
);

export const LG209 = defineRule(
  {
    id: "LG209",
    severity: "warn",
    operations: ["UPDATE"],
    summary: "A revision that was not default/active is renamed in place while no other pre-existing revision remains there: it is replaced, not run beside.",
    doc: { why: "An entry's key changed in place while the old revision was not default/active and no other pre-existing revision remains there: whatever ran on the old revision ran only there. Workloads labelled istio.io/rev=<old>, or Services that select the old gateway revision (Solo's labs keep every activeGateway false and switch a custom Service), lose their control plane or gateway: the new revision is installed instead of beside the old one.", example: {"before": "- gatewayRevision: 1-23  # activeGateway: false", "after": "- gatewayRevision: 1-24  # same entry, renamed"}, fix: "Keep the old entry, add the new one beside it, move the workloads or the Service, then remove the old entry." },
  },
  (ctx, report) => {
    const old = ctx.oldObject;
    if (!old) return;
    const { newSide } = sideSummaries(ctx);
    // One warning per renamed entry, naming its clusters: the rename is one problem, not one per cluster.
    const renames = new Map<Entry, { from: Entry; clusters: string[] }>();
    for (const oldEntry of old.entries) {
      for (const { name: cluster, flag } of oldEntry.clusters) {
        // A default/active installation renamed in place is LG203's.
        if (flag) continue;
        ctx.tick();
        if (counterpart(ctx, oldEntry, cluster, ctx.newObject)) continue;
        const now = newSide.on(cluster, oldEntry);
        // Another pre-existing revision stays there (a canary replaced beside it): quiet.
        if (now.preExisting.count > 0 || now.newKeys.count === 0) continue;
        const atSamePlace = ctx.newObject.entries[oldEntry.index];
        const renamed = atSamePlace && now.newKeys.first.includes(atSamePlace) ? atSamePlace : now.newKeys.first[0];
        if (!renamed) continue;
        const known = renames.get(renamed);
        if (known && known.from === oldEntry) known.clusters.push(cluster);
        else if (!known) renames.set(renamed, { from: oldEntry, clusters: [cluster] });
      }
    }
    for (const [renamed, { from, clusters }] of renames) {
      const before = revisionLabel(from.key);
      const after = revisionLabel(renamed.key);
      const lost =
        ctx.kind.short === "ILM"
          ? from.key === ""
            ? "workloads of the revisionless control plane lose it"
            : `workloads on istio.io/rev=${before} lose their control plane`
          : `Services selecting the ${before} gateway${gatewayLabel(from).replace(" for gateway", "")} lose it`;
      report(
        entryPath(renamed, ctx.kind.keyField),
        `${listNames(clusters)}: ${ctx.kind.keyField} ${before} is renamed to ${after} in place, with no other revision there: ${lost}. Keep ${before}, add ${after} beside it, move, then remove ${before}.`,
      );
    }
  },
);
