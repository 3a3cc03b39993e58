import { counterpart, entriesOn } from "../../lifecycle/matching.js";
import { entryPath, flagOn, identicalGateways, INSTALLATIONS_PATH, type Entry } from "../../lifecycle/model.js";
import { listNames } from "../messages.js";
import { memo, type RuleContext } from "../types.js";

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
  | { readonly kind: "swappedToNew"; readonly to: readonly Entry[]; readonly renamedTo: Entry | undefined }
  | { readonly kind: "replaced"; readonly remaining: readonly Entry[]; readonly renamedTo: Entry | undefined }
  /** LG207: removed in the same edit that made a pre-existing revision default/active. */
  | { readonly kind: "switchedAndRemoved"; readonly to: readonly Entry[] }
  /** LG208: removed while a pre-existing revision remains, and none is default/active now. */
  | { readonly kind: "noneFlagged"; readonly remaining: readonly Entry[] }
  /** Removed, and another pre-existing installation was already default/active (a clean-up). */
  | { readonly kind: "alreadyCovered" };

export interface FlaggedInstallation {
  readonly oldEntry: Entry;
  readonly cluster: string;
  readonly fate: FlagFate;
}

/** The entry that took over from `oldEntry` under a new key in the same edit, if any. */
function renamedEntry(ctx: RuleContext, oldEntry: Entry, cluster: string): Entry | undefined {
  const candidates = entriesOn(ctx.newObject, cluster, oldEntry).filter((e) => !ctx.oldObject?.byKey.has(e.key));
  return candidates.find((e) => e.index === oldEntry.index) ?? candidates[0];
}

/**
 * Follows every installation that was default/active in the old object into the new one. LG203,
 * LG204 (for flagged installations) and LG207 read this single analysis, so the three rules can
 * never disagree about what happened.
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
        result.push({ oldEntry, cluster, fate: fateOf(ctx, oldEntry, cluster) });
      }
    }
  }
  return result;
}

function fateOf(ctx: RuleContext, oldEntry: Entry, cluster: string): FlagFate {
  if (counterpart(ctx, oldEntry, cluster, ctx.newObject)) return { kind: "kept" };
  const remaining = entriesOn(ctx.newObject, cluster, oldEntry);
  if (remaining.length === 0) return { kind: "uninstalled" };
  const preExisting = remaining.filter((e) => counterpart(ctx, e, cluster, ctx.oldObject));
  const flaggedNow = remaining.filter((e) => flagOn(e, cluster));
  const addedFlagged = flaggedNow.filter((e) => !preExisting.includes(e));
  if (addedFlagged.length > 0) return { kind: "swappedToNew", to: addedFlagged, renamedTo: renamedEntry(ctx, oldEntry, cluster) };
  if (preExisting.length === 0) return { kind: "replaced", remaining, renamedTo: renamedEntry(ctx, oldEntry, cluster) };
  if (flaggedNow.length === 0) return { kind: "noneFlagged", remaining: preExisting };
  const switched = flaggedNow.filter((e) => {
    const before = counterpart(ctx, e, cluster, ctx.oldObject);
    return before !== undefined && !flagOn(before, cluster);
  });
  return switched.length > 0 ? { kind: "switchedAndRemoved", to: switched } : { kind: "alreadyCovered" };
}

/**
 * Where in the new object to point for a removed installation: the entry's cluster list when the
 * entry itself is still there, else the installations list.
 */
export function removalPath(ctx: RuleContext, oldEntry: Entry): string {
  const sameKey = ctx.newObject.byKey.get(oldEntry.key)?.find((e) => ctx.kind.short !== "GLM" || identicalGateways(e, oldEntry));
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
  readonly oldFlagged: readonly Entry[];
  /** Those of them still flagged there in the new object. */
  readonly staying: readonly Entry[];
}

/**
 * Installations added by this UPDATE with `defaultRevision`/`activeGateway` true. LG205 (the flag
 * moved to a never-run revision), LG206 (the canary was added flagged) and the mutating webhook's
 * canary defaulting all read this one analysis.
 */
export function addedFlaggedInstallations(ctx: RuleContext): readonly AddedFlaggedInstallation[] {
  const old = ctx.oldObject;
  if (ctx.operation !== "UPDATE" || !old) return [];
  const result: AddedFlaggedInstallation[] = [];
  for (const entry of ctx.newObject.entries) {
    for (const { name: cluster, flag } of entry.clusters) {
      if (!flag || counterpart(ctx, entry, cluster, old)) continue;
      const oldFlagged = entriesOn(old, cluster, entry).filter((e) => flagOn(e, cluster));
      const staying = oldFlagged.filter((e) => {
        const now = counterpart(ctx, e, cluster, ctx.newObject);
        return now !== undefined && flagOn(now, cluster);
      });
      result.push({ entry, cluster, oldFlagged, staying });
    }
  }
  return result;
}
