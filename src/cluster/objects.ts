import type { KubernetesObject } from "@kubernetes/client-node";
import type { LifecycleKind } from "../lifecycle/kinds.js";
import { readLifecycleObject } from "../lifecycle/model.js";
import type { ClusterObject } from "../rules/types.js";

export const objectKey = (o: KubernetesObject): string => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

/** Reads a listed or watched object once, so reviews never parse cluster objects. */
export function toClusterObject(kind: LifecycleKind, o: KubernetesObject): ClusterObject {
  return { namespace: o.metadata?.namespace ?? "", name: o.metadata?.name ?? "", object: readLifecycleObject(kind, o) };
}

export function listPath(kind: LifecycleKind): string {
  return `/apis/${kind.group}/${kind.version}/${kind.resource}`;
}
