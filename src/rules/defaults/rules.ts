import { counterpart, entriesOn } from "../../lifecycle/matching.js";
import { clusterNames, entryPath, flagOn, NAMELESS, revisionLabel, type Entry } from "../../lifecycle/model.js";
import { shown } from "../../lifecycle/text.js";
import { listNames, listRevisions } from "../messages.js";
import { defineRule, type RuleContext } from "../types.js";
import { addedFlaggedInstallations, flaggedInstallations, flagPath, gatewayLabel, removalPath } from "./analysis.js";
import { sideSummaries } from "./summaries.js";

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
      report(flagPath(ctx, last, cluster), `${shown(cluster)}: revisions ${listNames(flagged.map((e) => revisionLabel(e.key)), 4)} ${verb} defaultRevision; keep exactly one.`);
    }
  },
);

export const LG202 = defineRule(
  { id: "LG202", severity: "warn", kinds: ["GLM"], operations: ["CREATE", "UPDATE"], summary: "Two or more GLM entries of the same gateway are activeGateway for the same cluster." },
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
      report(flagPath(ctx, last, cluster), `${shown(cluster)}: ${revs(ctx, conflicting)} are ${conflicting.length === 2 ? "both" : "all"} activeGateway${which}; keep one active per gateway.`);
    }
  },
);

export const LG203 = defineRule(
  {
    id: "LG203",
    severity: "deny",
    operations: ["UPDATE"],
    skippable: true,
    summary: "A default/active installation is renamed in place, swapped for a revision this edit adds, or replaced wholesale: the new one never ran as a canary.",
  },
  (ctx, report) => {
    const key = ctx.kind.keyField;
    const flag = ctx.kind.flagField;
    for (const { oldEntry, cluster, fate } of flaggedInstallations(ctx)) {
      if (fate.kind !== "swappedToNew" && fate.kind !== "replaced") continue;
      const old = revisionLabel(oldEntry.key);
      const where = `${shown(cluster)}${gatewayLabel(oldEntry)}`;
      const governedBy = { entry: oldEntry, object: "old" as const };
      if (fate.renamedTo) {
        const renamed = revisionLabel(fate.renamedTo.key);
        report(
          entryPath(fate.renamedTo, key),
          `${where}: ${key} ${old} was renamed to ${renamed} in one edit; keep ${old} and add ${renamed} as a new entry with ${flag}: false, switch once it is verified, then remove ${old}.`,
          governedBy,
        );
      } else if (fate.kind === "swappedToNew") {
        const to = listRevisions(fate.to);
        report(
          removalPath(ctx, oldEntry),
          `${where}: ${ctx.kind.flagAdjective} ${key} ${old} is removed in the edit that adds ${to} as ${flag}: it never ran as a canary. Keep ${old}, add ${to} with ${flag}: false, switch once verified.`,
          governedBy,
        );
      } else {
        const to = listRevisions(fate.remaining);
        report(
          removalPath(ctx, oldEntry),
          `${where}: ${ctx.kind.flagAdjective} ${key} ${old} is replaced by ${to} in one edit. Keep ${old}, add ${to} beside it with ${flag}: false, switch once verified, then remove ${old}.`,
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
    const { newSide, oldSide } = sideSummaries(ctx);
    const seen = new Set<string>();
    for (const oldEntry of old.entries) {
      for (const { name: cluster } of oldEntry.clusters) {
        ctx.tick();
        if (newSide.on(cluster, oldEntry).all.count > 0 || counterpart(ctx, oldEntry, cluster, ctx.newObject)) continue;
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
  { id: "LG205", severity: "warn", operations: ["UPDATE"], summary: "The default/active flag moves to an entry this edit adds (it never ran as a canary)." },
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
  { id: "LG206", severity: "warn", operations: ["UPDATE"], summary: "An added entry is default/active on a cluster where a pre-existing entry stays default/active." },
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
    summary: "A default/active installation is removed in the same edit that makes another, pre-existing revision default/active: workloads not yet moved to it lose their control plane.",
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
    summary: "A default/active installation is removed while a pre-existing revision remains and none is default/active afterwards (Solo's labs do this after relabelling namespaces; istio-injection=enabled namespaces get no sidecar).",
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
