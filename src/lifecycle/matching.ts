import type { Entry, LifecycleObject } from "./model.js";
import { entriesWith, identicalGateways, sameGateway } from "./model.js";

/**
 * Finds the entry of `other` that holds the same installation as `entry` on `cluster`: the same
 * key on that cluster and, for GLM, the same gateway identity. Old and new objects are compared
 * installation by installation, never by list index.
 */
export function counterpart(entry: Entry, cluster: string, other: LifecycleObject | undefined): Entry | undefined {
  if (!other) return undefined;
  const isGateway = other.kind.short === "GLM";
  let fallback: Entry | undefined;
  for (const candidate of entriesWith(other, entry.key, cluster)) {
    if (!isGateway) return candidate;
    if (!sameGateway(candidate, entry)) continue;
    // Prefer the entry declaring exactly the same gateways (an ingress and an east-west gateway
    // of one revision are two installations); fall back to any overlapping one.
    if (identicalGateways(candidate, entry)) return candidate;
    fallback ??= candidate;
  }
  return fallback;
}

/** True when `other` installs something on `cluster` (for GLM: the same gateway as `entry`). */
export function installsOn(other: LifecycleObject, cluster: string, like: Entry): boolean {
  return entriesOn(other, cluster, like).length > 0;
}

/** Entries of `object` that hold `cluster` and, for GLM, are the same gateway as `like`. */
export function entriesOn(object: LifecycleObject, cluster: string, like?: Entry): readonly Entry[] {
  const holding = object.byCluster.get(cluster) ?? [];
  if (object.kind.short !== "GLM" || !like) return holding;
  return holding.filter((e) => sameGateway(e, like));
}
