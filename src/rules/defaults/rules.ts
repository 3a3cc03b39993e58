import { entriesOn } from "../../lifecycle/matching.js";
import { clusterNames, entryPath, flagOn, revisionLabel, sameGateway, type Entry } from "../../lifecycle/model.js";
import { listNames } from "../messages.js";
import { defineRule, type RuleContext } from "../types.js";
import { addedFlaggedInstallations, flaggedInstallations, flagPath, gatewayLabel, removalPath } from "./analysis.js";

const revs = (ctx: RuleContext, entries: readonly Entry[]): string => {
  const names = [...new Set(entries.map((e) => revisionLabel(e.key)))];
  return `${ctx.kind.keyField}${names.length === 1 ? "" : "s"} ${listNames(names, 4)}`;
};

export const LG201 = defineRule(
  { id: "LG201", severity: "warn", kinds: ["ILM"], operations: ["CREATE", "UPDATE"], summary: "Two or more ILM entries are defaultRevision for the same cluster." },
  (ctx, report) => {
    for (const cluster of clusterNames(ctx.newObject)) {
      const flagged = entriesOn(ctx.newObject, cluster).filter((e) => flagOn(e, cluster));
      const last = flagged[flagged.length - 1];
      if (flagged.length < 2 || !last) continue;
      const verb = flagged.length === 2 ? "are both" : "are all";
      report(flagPath(ctx, last, cluster), `${cluster}: revisions ${listNames(flagged.map((e) => revisionLabel(e.key)), 4)} ${verb} defaultRevision; keep exactly one.`);
    }
  },
);

export const LG202 = defineRule(
  { id: "LG202", severity: "warn", kinds: ["GLM"], operations: ["CREATE", "UPDATE"], summary: "Two or more GLM entries of the same gateway are activeGateway for the same cluster." },
  (ctx, report) => {
    for (const cluster of clusterNames(ctx.newObject)) {
      const active = entriesOn(ctx.newObject, cluster).filter((e) => flagOn(e, cluster));
      const conflicting = active.filter((e, i) => active.some((other, j) => i !== j && sameGateway(e, other)));
      const last = conflicting[conflicting.length - 1];
      if (!last) continue;
      const gateways = [...new Set(conflicting.flatMap((e) => e.gateways))];
      const which = gateways.length > 0 ? ` for gateway ${listNames(gateways, 2)}` : "";
      report(flagPath(ctx, last, cluster), `${cluster}: ${revs(ctx, conflicting)} are ${conflicting.length === 2 ? "both" : "all"} activeGateway${which}; keep one active per gateway.`);
    }
  },
);

export const LG203 = defineRule(
  {
    id: "LG203",
    severity: "deny",
    operations: ["UPDATE"],
    skippable: true,
    summary: "A default/active installation is removed or renamed while the cluster is left without a default, or with one that never ran as a canary.",
  },
  (ctx, report) => {
    const key = ctx.kind.keyField;
    const flag = ctx.kind.flagField;
    for (const { oldEntry, cluster, fate } of flaggedInstallations(ctx)) {
      if (fate.kind !== "noneFlagged" && fate.kind !== "swappedToNew") continue;
      const old = revisionLabel(oldEntry.key);
      const governedBy = { entry: oldEntry, object: "old" as const };
      const bypass = ctx.skipPolicy.honored ? ` (skipUpgradeValidation: true on the ${old} entry, set in an earlier edit, bypasses this check.)` : "";
      if (fate.renamedTo) {
        const renamed = revisionLabel(fate.renamedTo.key);
        report(
          entryPath(fate.renamedTo, key),
          `${key} ${old} was renamed to ${renamed} in one edit; keep ${old} and add ${renamed} as a new entry with ${flag}: false (canary), switch ${flag} once it is verified, then remove ${old}. ${old} is ${flag} on ${cluster}${gatewayLabel(oldEntry)}, and its workloads would lose their control plane.${bypass}`,
          governedBy,
        );
      } else if (fate.kind === "noneFlagged") {
        report(
          removalPath(ctx, oldEntry),
          `${cluster}: ${key} ${old} is ${flag}${gatewayLabel(oldEntry)} and is removed, leaving no ${flag} revision on ${cluster} while others stay installed. First set ${flag}: true on the revision that replaces it and move workloads to it, then remove ${old}.${bypass}`,
          governedBy,
        );
      } else {
        const to = listNames(fate.to.map((e) => revisionLabel(e.key)));
        report(
          removalPath(ctx, oldEntry),
          `${cluster}: ${key} ${old} (${flag}${gatewayLabel(oldEntry)}) is removed in the same edit that adds ${to} as ${flag}, so ${to} never ran as a canary. Keep ${old}, add ${to} with ${flag}: false, switch once it is verified, then remove ${old}.${bypass}`,
          governedBy,
        );
      }
    }
  },
);

export const LG204 = defineRule(
  { id: "LG204", severity: "warn", operations: ["UPDATE"], summary: "A cluster that had a revision has none after this edit (uninstall)." },
  (ctx, report) => {
    const old = ctx.oldObject;
    if (!old) return;
    const seen = new Set<string>();
    for (const oldEntry of old.entries) {
      for (const { name: cluster } of oldEntry.clusters) {
        if (entriesOn(ctx.newObject, cluster, oldEntry).length > 0) continue;
        const identity = `${cluster}\u0000${ctx.kind.short === "GLM" ? oldEntry.gateways.join() : ""}`;
        if (seen.has(identity)) continue;
        seen.add(identity);
        const removed = entriesOn(old, cluster, oldEntry);
        const what = ctx.kind.short === "GLM" ? `no gateway${gatewayLabel(oldEntry)} remains` : "no Istio revision remains";
        report(removalPath(ctx, oldEntry), `${cluster}: ${what} after this edit (${revs(ctx, removed)} removed); Gloo uninstalls it from ${cluster}.`);
      }
    }
  },
);

export const LG205 = defineRule(
  { id: "LG205", severity: "warn", operations: ["UPDATE"], summary: "The default/active flag moves to an entry this edit adds (it never ran as a canary)." },
  (ctx, report) => {
    for (const { entry, cluster, oldFlagged, staying } of addedFlaggedInstallations(ctx)) {
      if (oldFlagged.length === 0 || staying.length > 0) continue;
      report(
        flagPath(ctx, entry, cluster),
        `${cluster}: ${ctx.kind.flagField} moves from ${listNames(oldFlagged.map((e) => revisionLabel(e.key)))} to ${revisionLabel(entry.key)}, which this edit adds: it never ran as a canary. Add it with ${ctx.kind.flagField}: false first.`,
      );
    }
  },
);

export const LG206 = defineRule(
  { id: "LG206", severity: "warn", operations: ["UPDATE"], summary: "An added entry is default/active on a cluster where a pre-existing entry stays default/active." },
  (ctx, report) => {
    for (const { entry, cluster, staying } of addedFlaggedInstallations(ctx)) {
      if (staying.length === 0) continue;
      report(
        flagPath(ctx, entry, cluster),
        `${cluster}: new ${ctx.kind.keyField} ${revisionLabel(entry.key)} is added with ${ctx.kind.flagField}: true while ${listNames(staying.map((e) => revisionLabel(e.key)))} stays ${ctx.kind.flagAdjective}; add the canary with ${ctx.kind.flagField}: false.`,
      );
    }
  },
);

export const LG207 = defineRule(
  {
    id: "LG207",
    severity: "warn",
    operations: ["UPDATE"],
    summary: "A default/active installation is removed in the same edit that switches the flag to another revision.",
  },
  (ctx, report) => {
    for (const { oldEntry, cluster, fate } of flaggedInstallations(ctx)) {
      if (fate.kind !== "switchedAndRemoved") continue;
      const old = revisionLabel(oldEntry.key);
      const to = listNames(fate.to.map((e) => revisionLabel(e.key)));
      report(
        removalPath(ctx, oldEntry),
        `${cluster}: ${old} is removed in the edit that makes ${to} ${ctx.kind.flagAdjective}; workloads on istio.io/rev=${old} lose their control plane. Switch, relabel and restart first, then remove ${old}.`,
      );
    }
  },
);

