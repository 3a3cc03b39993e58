import { existsSync } from "node:fs";
import { delimiter } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { NO_CONNECTION_REASON, SERVICE_ACCOUNT_TOKEN } from "./connection-hint.js";

export type ClusterConnection = { readonly kubeConfig: KubeConfig; readonly source: string } | { readonly kubeConfig: undefined; readonly reason: string };

/**
 * How the server reaches the API server: the pod's service account when running in a cluster,
 * else the file named by KUBECONFIG. Deliberately not ~/.kube/config: `npm start` on a laptop
 * must not start watching whatever cluster the developer last used.
 */
export function loadClusterConnection(env: NodeJS.ProcessEnv = process.env, tokenFile = SERVICE_ACCOUNT_TOKEN): ClusterConnection {
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && existsSync(tokenFile)) {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromCluster();
    return { kubeConfig, source: "in-cluster service account" };
  }
  const file = (env.KUBECONFIG ?? "").split(delimiter).find((f) => f !== "");
  if (file) {
    const kubeConfig = new KubeConfig();
    try {
      kubeConfig.loadFromFile(file);
    } catch (error) {
      throw new Error(`KUBECONFIG ${file} cannot be loaded: ${error instanceof Error ? error.message : String(error)}`);
    }
    // A file without a usable current context would keep the cache retrying forever, never synced.
    if (!kubeConfig.getCurrentCluster()) throw new Error(`KUBECONFIG ${file} has no current context with a cluster (context ${JSON.stringify(kubeConfig.getCurrentContext())})`);
    return { kubeConfig, source: `KUBECONFIG ${file} (context ${kubeConfig.getCurrentContext()})` };
  }
  return { kubeConfig: undefined, reason: NO_CONNECTION_REASON };
}

/** The CLI's `--cluster`: the current kube context, found the way kubectl finds it. */
export function loadCurrentContext(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return kubeConfig;
}
