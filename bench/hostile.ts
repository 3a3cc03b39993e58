/**
 * Worst-case shapes of lifecycle objects: legal, and as large as a review can carry. The benchmark
 * times them at about 1 MiB and 3 MiB per object; the reliability suite checks that the engine's
 * cost grows linearly with them (time at 4n over time at n) and that the server survives them.
 * Each shape is the old and new object of one UPDATE (or a CREATE when `old` is null).
 */

export type Kind = "IstioLifecycleManager" | "GatewayLifecycleManager";

export interface HostileShape {
  readonly name: string;
  readonly kind: Kind;
  readonly operation: "CREATE" | "UPDATE";
  /** What the answer must be, whatever the size. */
  readonly expect: { readonly allowed: boolean; readonly rule?: string };
  build(n: number): { oldObject: unknown; newObject: unknown };
  /** n that makes each object about one MiB. */
  readonly perMiB: number;
}

const object = (kind: Kind, installations: unknown[]) => ({
  apiVersion: "admin.gloo.solo.io/v2",
  kind,
  metadata: { name: "hostile", namespace: "gloo-mesh" },
  spec: { installations },
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export const HOSTILE_SHAPES: readonly HostileShape[] = [
  {
    name: "many entries, each patch-bumped",
    kind: "IstioLifecycleManager",
    operation: "UPDATE",
    expect: { allowed: true },
    perMiB: 9000,
    build: (n) => {
      const make = (tag: string) => object("IstioLifecycleManager", range(n).map((i) => ({ revision: `r${i}`, clusters: [{ name: `c${i}`, defaultRevision: true }], istioOperatorSpec: { tag } })));
      return { oldObject: make("1.24.1-solo"), newObject: make("1.24.2-solo") };
    },
  },
  {
    name: "rename every default revision on one cluster",
    kind: "IstioLifecycleManager",
    operation: "UPDATE",
    expect: { allowed: false, rule: "LG203" },
    perMiB: 14000,
    build: (n) => ({
      oldObject: object("IstioLifecycleManager", range(n).map((i) => ({ revision: `a${i}`, clusters: [{ name: "cluster1", defaultRevision: true }] }))),
      newObject: object("IstioLifecycleManager", range(n).map((i) => ({ revision: `b${i}`, clusters: [{ name: "cluster1", defaultRevision: true }] }))),
    }),
  },
  {
    name: "one entry with many clusters, patch-bumped",
    kind: "IstioLifecycleManager",
    operation: "UPDATE",
    expect: { allowed: true },
    perMiB: 30000,
    build: (n) => {
      const make = (tag: string) => object("IstioLifecycleManager", [{ revision: "1-24", clusters: range(n).map((i) => ({ name: `c${i}`, defaultRevision: true })), istioOperatorSpec: { tag } }]);
      return { oldObject: make("1.24.1-solo"), newObject: make("1.24.2-solo") };
    },
  },
  {
    name: "a minor bump padded with many clusters",
    kind: "IstioLifecycleManager",
    operation: "UPDATE",
    expect: { allowed: false, rule: "LG102" },
    perMiB: 30000,
    build: (n) => {
      const make = (tag: string) => object("IstioLifecycleManager", [{ revision: "1-23", clusters: range(n).map((i) => ({ name: `c${i}`, defaultRevision: true })), istioOperatorSpec: { tag } }]);
      return { oldObject: make("1.23.4-solo"), newObject: make("1.24.2-solo") };
    },
  },
  {
    name: "per-cluster entries merged into one",
    kind: "IstioLifecycleManager",
    operation: "UPDATE",
    expect: { allowed: true },
    perMiB: 12000,
    build: (n) => ({
      oldObject: object("IstioLifecycleManager", range(n).map((i) => ({ revision: "1-24", clusters: [{ name: `c${i}`, defaultRevision: true }], istioOperatorSpec: { tag: "1.24.1-solo", values: { global: { meshID: "m" } } } }))),
      newObject: object("IstioLifecycleManager", [{ revision: "1-24", clusters: range(n).map((i) => ({ name: `c${i}`, defaultRevision: true })), istioOperatorSpec: { tag: "1.24.2-solo", values: { global: { meshID: "m" } } } }]),
    }),
  },
  {
    name: "one installation held by many entries",
    kind: "IstioLifecycleManager",
    operation: "CREATE",
    expect: { allowed: false, rule: "LG301" },
    perMiB: 16000,
    build: (n) => ({ oldObject: null, newObject: object("IstioLifecycleManager", range(n).map(() => ({ revision: "1-24", clusters: [{ name: "cluster1", defaultRevision: true }] }))) }),
  },
  {
    name: "GLM with many active gateways of one revision",
    kind: "GatewayLifecycleManager",
    operation: "CREATE",
    expect: { allowed: true },
    perMiB: 7000,
    build: (n) => ({
      oldObject: null,
      newObject: object("GatewayLifecycleManager", range(n).map((i) => ({ gatewayRevision: "1-24", clusters: [{ name: "cluster1", activeGateway: true }], istioOperatorSpec: { components: { ingressGateways: [{ name: `gw${i}`, namespace: "gw" }] } } }))),
    }),
  },
  {
    name: "GLM renaming every gateway",
    kind: "GatewayLifecycleManager",
    operation: "UPDATE",
    expect: { allowed: false, rule: "LG203" },
    perMiB: 7000,
    build: (n) => {
      const make = (prefix: string, revision: string) =>
        object("GatewayLifecycleManager", range(n).map((i) => ({ gatewayRevision: revision, clusters: [{ name: "cluster1", activeGateway: true }], istioOperatorSpec: { components: { ingressGateways: [{ name: `${prefix}${i}`, namespace: "gw" }] } } })));
      return { oldObject: make("a", "1-23"), newObject: make("a", "1-24") };
    },
  },
  {
    name: "GLM gateways sharing one name, all renamed",
    kind: "GatewayLifecycleManager",
    operation: "UPDATE",
    expect: { allowed: false },
    perMiB: 5000,
    build: (n) => {
      const make = (suffix: string) =>
        object("GatewayLifecycleManager", range(n).map((i) => ({ gatewayRevision: `r${i}`, clusters: [{ name: "cluster1", activeGateway: true }], istioOperatorSpec: { components: { ingressGateways: [{ name: "shared", namespace: "gw" }, { name: `own${i}${suffix}`, namespace: "gw" }] } } })));
      return { oldObject: make(""), newObject: make("x") };
    },
  },
  {
    name: "values with many keys beside many per-cluster entries",
    kind: "IstioLifecycleManager",
    operation: "UPDATE",
    expect: { allowed: false, rule: "LG113" },
    perMiB: 2000,
    build: (n) => {
      const values = Object.fromEntries(range(n * 4).map((i) => [`k${i}`, {}]));
      return {
        oldObject: object("IstioLifecycleManager", range(n).map((i) => ({ revision: "1-24", clusters: [{ name: `c${i}` }], istioOperatorSpec: { tag: "1.24.1", values: { [`x${i}`]: 1 } } }))),
        newObject: object("IstioLifecycleManager", [{ revision: "1-24", clusters: range(n).map((i) => ({ name: `c${i}` })), istioOperatorSpec: { tag: "1.24.2", values } }]),
      };
    },
  },
];

/** n for which the larger object of the shape is about `mib` MiB. */
export function nFor(shape: HostileShape, mib: number): number {
  const probe = shape.build(shape.perMiB);
  const size = Math.max(JSON.stringify(probe.newObject).length, JSON.stringify(probe.oldObject ?? null).length) / 1048576;
  return Math.max(1, Math.floor((shape.perMiB * mib) / size));
}

/** The AdmissionReview the API server would send for one build of a shape (a GitOps dry run). */
export function hostileReview(shape: HostileShape, objects: { oldObject: unknown; newObject: unknown }, uid: string): string {
  return JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind: { group: "admin.gloo.solo.io", version: "v2", kind: shape.kind },
      name: "hostile",
      namespace: "gloo-mesh",
      operation: shape.operation,
      object: objects.newObject,
      oldObject: objects.oldObject,
      dryRun: true,
      options: { kind: "UpdateOptions", apiVersion: "meta.k8s.io/v1", fieldManager: "kustomize-controller" },
    },
  });
}
