import { CustomObjectsApi, type KubeConfig, type KubernetesListObject, type KubernetesObject } from "@kubernetes/client-node";
import { LIFECYCLE_KINDS, type LifecycleKind } from "../lifecycle/kinds.js";
import type { ClusterObject, ClusterView } from "../rules/types.js";
import { toClusterObject } from "./objects.js";

/**
 * Lists every lifecycle object once, for `lifecycle-guard check --cluster`: the same LG5xx rules as
 * the server, from a pipeline, before a change is merged.
 */
export async function listClusterView(kubeConfig: KubeConfig): Promise<ClusterView> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const lists = new Map<LifecycleKind, ClusterObject[]>();
  for (const kind of LIFECYCLE_KINDS) {
    let list: KubernetesListObject<KubernetesObject>;
    try {
      list = (await api.listClusterCustomObject({ group: kind.group, version: kind.version, plural: kind.resource })) as KubernetesListObject<KubernetesObject>;
    } catch (error) {
      const code = (error as { code?: number }).code;
      // The CRD is not installed: there are no such objects.
      if (code === 404) {
        lists.set(kind, []);
        continue;
      }
      throw new Error(`cannot list ${kind.resource} from ${kubeConfig.getCurrentCluster()?.server ?? "the cluster"}: ${(error as Error).message}`);
    }
    lists.set(kind, list.items.map((o) => toClusterObject(kind, o)));
  }
  return { synced: true, objects: (kind) => lists.get(kind) ?? [] };
}
