/**
 * Realistic IstioLifecycleManager reviews for the benchmarks. A typical object is two revisions on
 * two clusters with a production-sized istioOperatorSpec (~10 KB); large objects grow the way
 * real ones do, by per-cluster entries, so the engine's cost is measured against entry count.
 */

function operatorSpec(tag: string, cluster: number): Record<string, unknown> {
  return {
    profile: "minimal",
    hub: "us-docker.pkg.dev/gloo-mesh/istio-workshops",
    tag,
    namespace: "istio-system",
    meshConfig: {
      accessLogFile: "/dev/stdout",
      accessLogEncoding: "JSON",
      enableAutoMtls: true,
      trustDomain: `cluster${cluster}.local`,
      defaultConfig: {
        holdApplicationUntilProxyStarts: true,
        proxyMetadata: { ISTIO_META_DNS_CAPTURE: "true", ISTIO_META_DNS_AUTO_ALLOCATE: "true" },
        terminationDrainDuration: "10s",
      },
      outboundTrafficPolicy: { mode: "ALLOW_ANY" },
      extensionProviders: [{ name: "zipkin", zipkin: { service: "zipkin.istio-system.svc.cluster.local", port: 9411 } }],
    },
    components: {
      base: { enabled: true },
      cni: { enabled: true, namespace: "kube-system", k8s: { overlays: [{ kind: "DaemonSet", name: "istio-cni-node", patches: [{ path: "spec.template.spec.priorityClassName", value: "system-node-critical" }] }] } },
      pilot: {
        enabled: true,
        k8s: {
          replicaCount: 2,
          resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
          hpaSpec: { minReplicas: 2, maxReplicas: 5, metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }] },
          env: [
            { name: "PILOT_ENABLE_K8S_SELECT_WORKLOAD_ENTRIES", value: "false" },
            { name: "PILOT_SKIP_VALIDATE_TRUST_DOMAIN", value: "true" },
            { name: "AUTO_RELOAD_PLUGIN_CERTS", value: "true" },
            { name: "PILOT_ENABLE_HBONE", value: "false" },
          ],
          podAnnotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "true", "prometheus.io/scrape": "true" },
          affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { app: "istiod" } } } }] } },
          tolerations: [{ key: "dedicated", operator: "Equal", value: "infra", effect: "NoSchedule" }],
        },
      },
      ingressGateways: [{ name: "istio-ingressgateway", enabled: false }],
      egressGateways: [{ name: "istio-egressgateway", enabled: false }],
    },
    values: {
      global: {
        meshID: "mesh1",
        multiCluster: { clusterName: `cluster${cluster}`, enabled: true },
        network: `network${cluster}`,
        proxy: { resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2", memory: "1Gi" } }, holdApplicationUntilProxyStarts: true, logLevel: "warning" },
        proxy_init: { resources: { requests: { cpu: "10m", memory: "10Mi" } } },
        logging: { level: "default:info" },
        imagePullPolicy: "IfNotPresent",
      },
      pilot: { autoscaleEnabled: true, traceSampling: 1, env: { PILOT_ENABLE_IP_AUTOALLOCATE: "true" } },
      sidecarInjectorWebhook: { rewriteAppHTTPProbe: true, injectedAnnotations: { "sidecar.istio.io/rewriteAppHTTPProbers": "true" } },
      cni: { excludeNamespaces: ["istio-system", "kube-system"], logLevel: "info", privileged: true },
      telemetry: { enabled: true, v2: { enabled: true, prometheus: { enabled: true } } },
      meshConfig: { defaultConfig: { proxyStatsMatcher: { inclusionRegexps: [".*outlier_detection.*", ".*upstream_rq_retry.*", ".*upstream_cx_.*"] } } },
    },
    unvalidatedValues: { license: { value: "x".repeat(600) } },
  };
}

function ilm(installations: unknown[]): Record<string, unknown> {
  return {
    apiVersion: "admin.gloo.solo.io/v2",
    kind: "IstioLifecycleManager",
    metadata: {
      name: "istiod-control-plane",
      namespace: "gloo-mesh",
      uid: "0f5b8a2e-4a3c-4d8e-9a71-2b6c1d0e9f31",
      resourceVersion: "4711",
      generation: 12,
      annotations: { "argocd.argoproj.io/tracking-id": "platform:admin.gloo.solo.io/IstioLifecycleManager:gloo-mesh/istiod-control-plane" },
      labels: { "app.kubernetes.io/managed-by": "argocd" },
    },
    spec: { installations },
  };
}

const entry = (revision: string, tag: string, clusters: { name: string; defaultRevision: boolean }[], cluster: number) => ({
  revision,
  clusters,
  istioOperatorSpec: operatorSpec(tag, cluster),
});

/** (a) The typical edit: 1-23 default and 1-24 canary on two clusters, 1-24 patch-upgraded. */
export function typicalUpdate(newTag = "1.24.2-solo"): { oldObject: unknown; newObject: unknown } {
  const make = (tag: string) =>
    ilm([
      entry("1-23", "1.23.4-solo", [{ name: "cluster1", defaultRevision: true }, { name: "cluster2", defaultRevision: true }], 1),
      entry("1-24", tag, [{ name: "cluster1", defaultRevision: false }, { name: "cluster2", defaultRevision: false }], 2),
    ]);
  return { oldObject: make("1.24.1-solo"), newObject: make(newTag) };
}

/** (b) The same object with a minor bump in place: denied with LG102. */
export function deniedUpdate(): { oldObject: unknown; newObject: unknown } {
  const { oldObject } = typicalUpdate();
  const newObject = structuredClone(oldObject) as { spec: { installations: { istioOperatorSpec: { tag: string } }[] } };
  (newObject.spec.installations[0] as { istioOperatorSpec: { tag: string } }).istioOperatorSpec.tag = "1.24.2-solo";
  return { oldObject, newObject };
}

/** (c) Objects of about `bytes` each: per-cluster entries of two revisions, one patch-upgraded. */
export function largeUpdate(bytes: number): { oldObject: unknown; newObject: unknown; entries: number } {
  const perEntry = JSON.stringify(entry("1-24", "1.24.1-solo", [{ name: "cluster-000", defaultRevision: false }], 1)).length;
  const clusters = Math.max(1, Math.round(bytes / perEntry / 2));
  const make = (tag: string) => {
    const installations: unknown[] = [];
    for (let i = 0; i < clusters; i++) {
      const name = `cluster-${String(i).padStart(3, "0")}`;
      installations.push(entry("1-23", "1.23.4-solo", [{ name, defaultRevision: true }], i));
      installations.push(entry("1-24", tag, [{ name, defaultRevision: false }], i));
    }
    return ilm(installations);
  };
  return { oldObject: make("1.24.1-solo"), newObject: make("1.24.2-solo"), entries: clusters * 2 };
}

export function review(objects: { oldObject: unknown; newObject: unknown }, uid = "bench-0001"): string {
  const kind = { group: "admin.gloo.solo.io", version: "v2", kind: "IstioLifecycleManager" };
  return JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind,
      resource: { group: "admin.gloo.solo.io", version: "v2", resource: "istiolifecyclemanagers" },
      requestKind: kind,
      requestResource: { group: "admin.gloo.solo.io", version: "v2", resource: "istiolifecyclemanagers" },
      name: "istiod-control-plane",
      namespace: "gloo-mesh",
      operation: "UPDATE",
      userInfo: { username: "system:serviceaccount:argocd:argocd-application-controller", groups: ["system:serviceaccounts", "system:authenticated"] },
      object: objects.newObject,
      oldObject: objects.oldObject,
      dryRun: false,
      options: { kind: "UpdateOptions", apiVersion: "meta.k8s.io/v1", fieldManager: "argocd-controller" },
    },
  });
}
