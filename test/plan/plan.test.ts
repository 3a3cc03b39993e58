import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/lifecycle/values.js";
import { planUpgrade, PlanRefusal, type CanaryPlan } from "../../src/plan/plan.js";
import { verifyStep } from "../../src/plan/verify.js";
import { postReview, startServerProcess, tlsFixture, type ServerProcess, type TlsFixture } from "../helpers/server-process.js";

const HUB = "us-docker.pkg.dev/gloo-mesh/istio-workshops";

/** As `kubectl get -o yaml` prints it: server fields and a status included. */
function exported(kind: "IstioLifecycleManager" | "GatewayLifecycleManager", name: string, installations: unknown[]): JsonObject {
  return {
    apiVersion: "admin.gloo.solo.io/v2",
    kind,
    metadata: { name, namespace: "gloo-mesh", uid: "5a3c", resourceVersion: "4242", generation: 3, creationTimestamp: "2026-01-01T00:00:00Z", managedFields: [{ manager: "kubectl" }] },
    spec: { installations },
    status: { clusters: { cluster1: { installations: { "1-23": { state: "HEALTHY" } } } } },
  };
}

const ilmEntry = (clusters: string[], extra: JsonObject = {}, tag = "1.23.4-solo", revision = "1-23") => ({
  revision,
  clusters: clusters.map((name) => ({ name, defaultRevision: true })),
  istioOperatorSpec: { profile: "minimal", hub: HUB, tag, ...extra },
});
const gateway = (name: string, clusters = ["cluster1"]) => ({
  gatewayRevision: "1-23",
  clusters: clusters.map((c) => ({ name: c, activeGateway: true })),
  istioOperatorSpec: { profile: "empty", hub: HUB, tag: "1.23.4-solo", components: { ingressGateways: [{ name, namespace: "gloo-mesh-gateways", enabled: true }] } },
});

const installationsOf = (o: JsonObject | undefined): JsonObject[] => ((o?.spec as JsonObject | undefined)?.installations as JsonObject[] | undefined) ?? [];
const byKind = (objects: readonly JsonObject[], kind: string) => objects.filter((o) => o.kind === kind);

/** Every step, checked against the one before by the same engine the webhook runs. */
function replay(current: readonly JsonObject[], plan: CanaryPlan): void {
  let previous = current;
  for (const step of plan.steps) {
    for (const verdict of verifyStep(previous, step.objects)) expect(verdict.decision.denials, `${step.file}: ${verdict.object}`).toEqual([]);
    previous = step.objects;
  }
}

const scenarios: { name: string; objects: JsonObject[]; tag: string; hub?: string; steps: number; newRevision: string }[] = [
  { name: "ILM only, one cluster", objects: [exported("IstioLifecycleManager", "istiod", [ilmEntry(["cluster1"])])], tag: "1.24.2-solo", steps: 3, newRevision: "1-24" },
  { name: "ILM only, two clusters", objects: [exported("IstioLifecycleManager", "istiod", [ilmEntry(["cluster1", "cluster2"])])], tag: "1.24.2-solo", steps: 3, newRevision: "1-24" },
  {
    name: "per-cluster entries sharing the revision (different trust domains)",
    objects: [exported("IstioLifecycleManager", "istiod", [ilmEntry(["cluster1"], { meshConfig: { trustDomain: "cluster1.local" } }), ilmEntry(["cluster2"], { meshConfig: { trustDomain: "cluster2.local" } })])],
    tag: "1.24.2-solo",
    steps: 3,
    newRevision: "1-24",
  },
  {
    name: "ILM and a GLM with an ingress and an east-west gateway, two clusters",
    objects: [
      exported("IstioLifecycleManager", "istiod", [ilmEntry(["cluster1", "cluster2"])]),
      exported("GatewayLifecycleManager", "gateways", [gateway("istio-ingressgateway", ["cluster1", "cluster2"]), gateway("istio-eastwestgateway", ["cluster1", "cluster2"])]),
    ],
    tag: "1.24.2-solo",
    steps: 5,
    newRevision: "1-24",
  },
  { name: "a hub change at the same version", objects: [exported("IstioLifecycleManager", "istiod", [ilmEntry(["cluster1"], {}, "1.24.1-solo", "1-24")])], tag: "1.24.1-solo", hub: "registry.example.com/istio", steps: 3, newRevision: "1-24-1" },
  { name: "a name collision: 1-24 is taken", objects: [exported("IstioLifecycleManager", "istiod", [ilmEntry(["cluster1"], {}, "1.24.1-solo", "1-24")])], tag: "1.24.3-fips", steps: 3, newRevision: "1-24-3" },
];

describe("lifecycle-guard plan", () => {
  it.each(scenarios.map((s) => [s.name, s] as const))("%s: every step is allowed, the last holds only the new revision where the old one was", (_name, s) => {
    const plan = planUpgrade({ objects: s.objects, tag: s.tag, ...(s.hub ? { hub: s.hub } : {}) });
    expect(plan.kind).toBe("canary");
    if (plan.kind !== "canary") return;
    expect(plan.newRevision).toBe(s.newRevision);
    expect(plan.steps.map((step) => step.file)).toHaveLength(s.steps);
    expect(plan.steps[0]?.file).toBe("01-add-canary.yaml");
    replay(s.objects, plan);

    for (const step of plan.steps) for (const o of step.objects) {
      expect(o).not.toHaveProperty("status");
      expect(o.metadata).not.toHaveProperty("managedFields");
      expect(o.metadata).not.toHaveProperty("resourceVersion");
      expect(o.metadata).not.toHaveProperty("uid");
    }
    // Step 1: the canary beside the old revision, flags false.
    const added = installationsOf(byKind(plan.steps[0]?.objects ?? [], "IstioLifecycleManager")[0]);
    const canaries = added.filter((e) => e.revision === s.newRevision);
    expect(canaries.length).toBeGreaterThan(0);
    for (const c of canaries) for (const cluster of c.clusters as JsonObject[]) expect(cluster.defaultRevision).toBe(false);
    for (const c of canaries) expect((c.istioOperatorSpec as JsonObject).tag).toBe(s.tag);
    if (s.hub) for (const c of canaries) expect((c.istioOperatorSpec as JsonObject).hub).toBe(s.hub);

    // The last step: only the new revision, default where the old one was; per-cluster settings kept.
    const last = plan.steps[plan.steps.length - 1]?.objects ?? [];
    const before = installationsOf(byKind(s.objects, "IstioLifecycleManager")[0]);
    const after = installationsOf(byKind(last, "IstioLifecycleManager")[0]);
    expect(after.map((e) => e.revision)).toEqual(before.map(() => s.newRevision));
    after.forEach((entry, i) => {
      expect(entry.clusters).toEqual(before[i]?.clusters);
      expect((entry.istioOperatorSpec as JsonObject).meshConfig).toEqual((before[i]?.istioOperatorSpec as JsonObject).meshConfig);
    });
    for (const glm of byKind(last, "GatewayLifecycleManager")) {
      for (const entry of installationsOf(glm)) {
        expect(entry).toMatchObject({ gatewayRevision: s.newRevision, controlPlaneRevision: s.newRevision });
        for (const cluster of entry.clusters as JsonObject[]) expect(cluster.activeGateway).toBe(true);
      }
      expect(installationsOf(glm)).toHaveLength(2);
    }
  });

  it("switches activeGateway only after defaultRevision, and removes the gateways before the revision", () => {
    const s = scenarios[3];
    const plan = planUpgrade({ objects: s?.objects ?? [], tag: "1.24.2-solo" }) as CanaryPlan;
    expect(plan.steps.map((step) => step.file)).toEqual(["01-add-canary.yaml", "02-switch-default-revision.yaml", "03-switch-active-gateway.yaml", "04-remove-old-gateways.yaml", "05-remove-old-revision.yaml"]);
    const glmAt = (i: number) => installationsOf(byKind(plan.steps[i]?.objects ?? [], "GatewayLifecycleManager")[0]);
    expect(glmAt(0).filter((e) => e.gatewayRevision === "1-24").every((e) => e.controlPlaneRevision === "1-24" && (e.clusters as JsonObject[]).every((c) => c.activeGateway === false))).toBe(true);
    expect(glmAt(1)).toEqual(glmAt(0));
    expect(glmAt(3).map((e) => e.gatewayRevision)).toEqual(["1-24", "1-24"]);
    expect(installationsOf(byKind(plan.steps[3]?.objects ?? [], "IstioLifecycleManager")[0]).map((e) => e.revision)).toEqual(["1-23", "1-24"]);
  });

  it("a plain patch upgrade needs no plan: it says so and gives the one in-place edit", () => {
    const objects = [exported("IstioLifecycleManager", "istiod", [ilmEntry(["cluster1"])]), exported("GatewayLifecycleManager", "gw", [gateway("istio-ingressgateway")])];
    const plan = planUpgrade({ objects, tag: "1.23.5-solo" });
    expect(plan.kind).toBe("patch");
    if (plan.kind !== "patch") return;
    expect(installationsOf(plan.edited[0])[0]).toMatchObject({ revision: "1-23", istioOperatorSpec: { tag: "1.23.5-solo" } });
    expect(installationsOf(plan.edited[1])[0]).toMatchObject({ gatewayRevision: "1-23", istioOperatorSpec: { tag: "1.23.5-solo" } });
    for (const verdict of verifyStep(objects, plan.edited)) expect(verdict.decision.allowed).toBe(true);
  });

  it.each([
    ["a revisionless entry", [exported("IstioLifecycleManager", "istiod", [{ clusters: [{ name: "cluster1" }], istioOperatorSpec: { tag: "1.23.4" } }])], {}, /revisionless entry/],
    ["a canary already in progress", [exported("IstioLifecycleManager", "istiod", [ilmEntry(["cluster1"]), ilmEntry(["cluster1"], {}, "1.24.2-solo", "1-24")])], {}, /a canary is already in progress \(revisions 1-23, 1-24\)/],
    ["several ILMs without --name", [exported("IstioLifecycleManager", "a", [ilmEntry(["c1"])]), exported("IstioLifecycleManager", "b", [ilmEntry(["c2"])])], {}, /several IstioLifecycleManagers \(a, b\): pick one with --name/],
    ["a tag that is not a version", [exported("IstioLifecycleManager", "istiod", [ilmEntry(["cluster1"])])], { tag: "latest" }, /--tag latest is not a version/],
    ["a --revision already used", [exported("IstioLifecycleManager", "istiod", [ilmEntry(["cluster1"])])], { revision: "1-23" }, /--revision 1-23 is already used/],
  ])("refuses %s with a clear reason", (_name, objects, options, reason) => {
    expect(() => planUpgrade({ objects, tag: "1.24.2-solo", ...options })).toThrow(PlanRefusal);
    expect(() => planUpgrade({ objects, tag: "1.24.2-solo", ...options })).toThrow(reason);
  });
});

describe("a generated plan through the real HTTPS server", () => {
  let tls: TlsFixture;
  let server: ServerProcess;
  beforeAll(async () => {
    tls = await tlsFixture("plan");
    server = await startServerProcess(tls.env);
  });
  afterAll(async () => {
    server.child.kill("SIGTERM");
    await server.exited;
    await rm(tls.dir, { recursive: true, force: true });
  });

  it.each(scenarios.map((s) => [s.name, s] as const))("%s: the webhook allows every step, as kubectl apply would send it", async (_name, s) => {
    const plan = planUpgrade({ objects: s.objects, tag: s.tag, ...(s.hub ? { hub: s.hub } : {}) }) as CanaryPlan;
    let previous: readonly JsonObject[] = s.objects;
    for (const step of plan.steps) {
      for (const object of step.objects) {
        const metadata = object.metadata as JsonObject;
        const old = previous.find((p) => p.kind === object.kind && (p.metadata as JsonObject).name === metadata.name);
        const review = JSON.stringify({
          apiVersion: "admission.k8s.io/v1",
          kind: "AdmissionReview",
          request: {
            uid: `${step.file}-${String(metadata.name)}`,
            kind: { group: "admin.gloo.solo.io", version: "v2", kind: object.kind },
            name: metadata.name,
            namespace: metadata.namespace,
            operation: "UPDATE",
            // The API server's old object is the stored one: with the status Gloo wrote (HEALTHY here).
            object: { ...object, status: old?.status },
            oldObject: { ...old, status: (s.objects.find((o) => o.kind === object.kind) ?? {}).status },
            options: { kind: "UpdateOptions", apiVersion: "meta.k8s.io/v1", fieldManager: "kubectl-client-side-apply" },
          },
        });
        const answer = await postReview(server.port, review, { ca: tls.ca });
        const response = JSON.parse(answer.body).response;
        expect(response.allowed, `${step.file} ${String(object.kind)}: ${JSON.stringify(response.status?.message ?? "")}`).toBe(true);
      }
      previous = step.objects;
    }
  });
});
