import { existsSync } from "node:fs";

export const NO_CONNECTION_REASON = "no in-cluster service account and no KUBECONFIG";

/** Where the kubelet mounts a pod's service account token. */
export const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/**
 * Whether a cluster connection is configured at all, decided without loading
 * @kubernetes/client-node (about 80 MiB and half a second), so a server without one never loads it.
 */
export function hasClusterConnection(env: NodeJS.ProcessEnv, tokenFile = SERVICE_ACCOUNT_TOKEN): boolean {
  return Boolean((env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && existsSync(tokenFile)) || (env.KUBECONFIG ?? "").trim());
}
