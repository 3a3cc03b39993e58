import { counterpart } from "../../lifecycle/matching.js";
import { entryPath, identityKey, INSTALLATIONS_PATH, sameGateway, type Entry } from "../../lifecycle/model.js";
import { listNames } from "../messages.js";
import { memo, type RuleContext } from "../types.js";
import { sideSummaries, type Few } from "./summaries.js";

/** What became of an installation that was default/active in the old object. */
export type FlagFate =
  /** Still installed (its flag may have been switched off). */
  | { readonly kind: "kept" }
  /** Removed, and nothing of it (for GLM: of that gateway) remains on the cluster: LG204. */
  | { readonly kind: "uninstalled" }
  /**
   * LG203: removed, and either a revision this edit adds is default/active there now (a swap:
   * it never ran as a canary), or no revision that remains existed before (renamed in place, or
   * replaced wholesale).
   */
  | { readonly kind: "swappedToNew"; readonly to: Few; readonly renamedTo: Entry | undefined }
  | { readonly kind: "replaced"; readonly remaining: Few; readonly renamedTo: Entry | undefined }
  /** LG207: removed in the same edit that made a pre-existing revision default/active. */
  | { readonly kind: "switchedAndRemoved"; readonly to: Few }
  /** LG208: removed while a pre-existing revision remains, and none is default/active now. */
  | { readonly kind: "noneFlagged"; readonly remaining: Few }
  /** Removed, and another pre-existing installation was already default/active (a clean-up). */
  | { readonly kind: "alreadyCovered" };

export interface FlaggedInstallation {
  readonly oldEntry: Entry;
  readonly cluster: string;
  readonly fate: FlagFate;
}

/**
 * Follows every installation that was default/active in the old object into the new one. LG203,
 * LG207 and LG208 read this single analysis, so the rules can never disagree about what happened.
 * Each installation costs the number of its gateway names: the clusters are summarised once.
 */
export function flaggedInstallations(ctx: RuleContext): readonly FlaggedInstallation[] {
  return memo(ctx, "flaggedInstallations", computeFlagged);
}

function computeFlagged(ctx: RuleContext): FlaggedInstallation[] {
  const result: FlaggedInstallation[] = [];
  const oldObject = ctx.oldObject;
  if (ctx.operation === "UPDATE" && oldObject) {
    for (const oldEntry of oldObject.entries) {
      for (const { name: cluster, flag } of oldEntry.clusters) {
        if (!flag) continue;
        ctx.tick();
        result.push({ oldEntry, cluster, fate: fateOf(ctx, oldEntry, cluster) });
      }
    }
  }
  return result;
}

/** The entry that took over from `oldEntry` under a new key in the same edit, if any: the one at its place first. */
function renamedEntry(ctx: RuleContext, oldEntry: Entry, cluster: string, newKeys: Few): Entry | undefined {
  const atSamePlace = ctx.newObject.entries[oldEntry.index];
  if (atSamePlace && atSamePlace.clusterFlags.has(cluster) && !ctx.oldObject?.byKey.has(atSamePlace.key) && sameGateway(atSamePlace, oldEntry)) return atSamePlace;
  return newKeys.first[0];
}

function fateOf(ctx: RuleContext, oldEntry: Entry, cluster: string): FlagFate {
  if (counterpart(ctx, oldEntry, cluster, ctx.newObject)) return { kind: "kept" };
  const now = sideSummaries(ctx).newSide.on(cluster, oldEntry);
  if (now.all.count === 0) return { kind: "uninstalled" };
  if (now.addedFlagged.count > 0) return { kind: "swappedToNew", to: now.addedFlagged, renamedTo: renamedEntry(ctx, oldEntry, cluster, now.newKeys) };
  if (now.preExisting.count === 0) return { kind: "replaced", remaining: now.all, renamedTo: renamedEntry(ctx, oldEntry, cluster, now.newKeys) };
  if (now.flagged.count === 0) return { kind: "noneFlagged", remaining: now.preExisting };
  return now.switched.count > 0 ? { kind: "switchedAndRemoved", to: now.switched } : { kind: "alreadyCovered" };
}

/**
 * Where in the new object to point for a removed installation: the entry's cluster list when the
 * entry itself is still there, else the installations list.
 */
export function removalPath(ctx: RuleContext, oldEntry: Entry): string {
  const sameKey = ctx.kind.short === "GLM" ? ctx.newObject.byKeyIdentity.get(identityKey(oldEntry.key, oldEntry)) : ctx.newObject.byKey.get(oldEntry.key)?.[0];
  return sameKey ? entryPath(sameKey, "clusters") : INSTALLATIONS_PATH;
}

/** The path of an entry's flag for a cluster, e.g. `spec.installations[1].clusters[0].defaultRevision`. */
export function flagPath(ctx: RuleContext, entry: Entry, cluster: string): string {
  const ref = entry.clusters.find((c) => c.name === cluster);
  return ref ? entryPath(entry, "clusters", ref.index, ctx.kind.flagField) : entryPath(entry, "clusters");
}

/** A `namespace/name` list of the gateways an entry declares, for GLM messages. */
export function gatewayLabel(entry: Entry): string {
  return entry.gateways.length > 0 ? ` for gateway ${listNames(entry.gateways, 2)}` : "";
}

/** An installation this UPDATE adds with the flag set, and what the old object had flagged on its cluster. */
export interface AddedFlaggedInstallation {
  readonly entry: Entry;
  readonly cluster: string;
  /** Entries flagged on that cluster (for GLM: the same gateway) in the old object. */
  readonly oldFlagged: Few;
  /** Those of them still flagged there in the new object. */
  readonly staying: Few;
}

/**
 * Installations added by this UPDATE with `defaultRevision`/`activeGateway` true. LG205 (the flag
 * moved to a never-run revision), LG206 (the canary was added flagged) and the mutating webhook's
 * canary defaulting all read this one analysis.
 */
export function addedFlaggedInstallations(ctx: RuleContext): readonly AddedFlaggedInstallation[] {
  return memo(ctx, "addedFlaggedInstallations", computeAddedFlagged);
}

function computeAddedFlagged(ctx: RuleContext): AddedFlaggedInstallation[] {
  const old = ctx.oldObject;
  if (ctx.operation !== "UPDATE" || !old) return [];
  const summaries = sideSummaries(ctx).oldSide;
  const result: AddedFlaggedInstallation[] = [];
  for (const entry of ctx.newObject.entries) {
    for (const { name: cluster, flag } of entry.clusters) {
      if (!flag || counterpart(ctx, entry, cluster, old)) continue;
      ctx.tick();
      const before = summaries.on(cluster, entry);
      result.push({ entry, cluster, oldFlagged: before.flagged, staying: before.staying });
    }
  }
  return result;
}
