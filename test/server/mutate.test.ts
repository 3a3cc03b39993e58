import jsonpatch from "fast-json-patch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lifecycleObject } from "../helpers/cases.js";
import { webhookTestApp, type TestApp } from "../helpers/app.js";
import { fixture, ilmEntry, ilmReview } from "../helpers/reviews.js";

let t: TestApp;
beforeAll(async () => {
  t = await webhookTestApp({}, "info", { canaryDefaulting: true });
});
afterAll(async () => t.app.close());

interface MutationResponse {
  uid: string;
  allowed: boolean;
  patchType?: string;
  patch?: string;
  warnings?: string[];
}

async function mutate(review: unknown): Promise<MutationResponse> {
  const res = await t.app.inject({ method: "POST", url: "/mutate?timeout=5s", payload: review as object });
  expect(res.statusCode).toBe(200);
  return res.json().response as MutationResponse;
}

/** Applies the returned patch to the exact request object with an independent implementation. */
function applied(review: { request: { object: unknown } }, response: MutationResponse): unknown {
  const operations = JSON.parse(Buffer.from(response.patch ?? "", "base64").toString("utf8")) as jsonpatch.Operation[];
  // validate=true: an operation that does not apply cleanly throws.
  return jsonpatch.applyPatch(structuredClone(review.request.object), operations, true, false).newDocument;
}

const canaryAddedAsDefault = () =>
  ilmReview({
    oldInstallations: [ilmEntry("1-23", "1.23.4", { clusters: ["cluster1", "cluster2"] })],
    newInstallations: [ilmEntry("1-23", "1.23.4", { clusters: ["cluster1", "cluster2"] }), ilmEntry("1-24", "1.24.2", { clusters: ["cluster1", "cluster2"] })],
  }) as { request: { object: { spec: { installations: { clusters: { defaultRevision: boolean }[] }[] } } } };

describe("POST /mutate: safe canary defaulting", () => {
  it("sets the flag of a canary added as default to false, with a warning that says so", async () => {
    const review = canaryAddedAsDefault();
    const response = await mutate(review);
    expect(response).toMatchObject({ allowed: true, patchType: "JSONPatch" });
    expect(response.warnings).toEqual([
      "LG206 cluster1: new revision 1-24 was added with defaultRevision: true while 1-23 stays default; lifecycle-guard set it to false (canary). Switch it in a later edit.",
      "LG206 cluster2: new revision 1-24 was added with defaultRevision: true while 1-23 stays default; lifecycle-guard set it to false (canary). Switch it in a later edit.",
    ]);
    const patched = applied(review, response) as typeof review.request.object;
    const expected = structuredClone(review.request.object);
    for (const cluster of expected.spec.installations[1]?.clusters ?? []) cluster.defaultRevision = false;
    expect(patched).toEqual(expected);
  });

  it("is idempotent: the patched object, submitted again, gets no patch", async () => {
    const review = canaryAddedAsDefault();
    const patched = applied(review, await mutate(review));
    const again = { ...review, request: { ...review.request, object: patched } };
    const response = await mutate(again);
    expect(response).toEqual({ uid: "0b8a4c51-6d3e-4c1b-9d5b-6a1f0f3c2e11", allowed: true, auditAnnotations: { decision: "allowed", rules: "" } });
  });

  it("returns no patch when the canary is already added with the flag false", async () => {
    const review = ilmReview({
      oldInstallations: [ilmEntry("1-23", "1.23.4")],
      newInstallations: [ilmEntry("1-23", "1.23.4"), ilmEntry("1-24", "1.24.2", { defaultRevision: false })],
    });
    const response = await mutate(review);
    expect(response.patch).toBeUndefined();
    expect(response.patchType).toBeUndefined();
    expect(response.warnings).toBeUndefined();
  });

  it("patches a GLM canary's activeGateway, only for the same gateway", async () => {
    const gateway = (revision: string, active: boolean, name: string) => ({ gatewayRevision: revision, clusters: [{ name: "cluster1", activeGateway: active }], istioOperatorSpec: { components: { ingressGateways: [{ name, namespace: "gw" }] } } });
    const review = {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: {
        uid: "glm-1",
        kind: { group: "admin.gloo.solo.io", version: "v2", kind: "GatewayLifecycleManager" },
        operation: "UPDATE",
        name: "gateways",
        namespace: "gloo-mesh",
        oldObject: lifecycleObject("GLM", [gateway("1-23", true, "ingress"), gateway("1-23", true, "eastwest")], "gateways"),
        object: lifecycleObject("GLM", [gateway("1-23", true, "ingress"), gateway("1-23", true, "eastwest"), gateway("1-24", true, "ingress")], "gateways"),
      },
    };
    const response = await mutate(review);
    expect(response.warnings).toEqual([expect.stringContaining("LG206 cluster1: new gatewayRevision 1-24 was added with activeGateway: true while 1-23 stays active")]);
    const patched = applied(review, response) as { spec: { installations: { clusters: { activeGateway: boolean }[] }[] } };
    expect(patched.spec.installations.map((e) => e.clusters[0]?.activeGateway)).toEqual([true, true, false]);
  });

  it.each([
    ["a DELETE", ilmReview({ operation: "DELETE", oldInstallations: [ilmEntry("1-23", "1.23.4")], newInstallations: null })],
    ["a CREATE with two defaults", ilmReview({ newInstallations: [ilmEntry("1-23", "1.23.4"), ilmEntry("1-24", "1.24.2")] })],
    ["a switch of the default to a pre-existing revision", ilmReview({ oldInstallations: [ilmEntry("1-23", "1.23.4"), ilmEntry("1-24", "1.24.2", { defaultRevision: false })], newInstallations: [ilmEntry("1-23", "1.23.4", { defaultRevision: false }), ilmEntry("1-24", "1.24.2")] })],
    ["a minor bump (the validating webhook's business)", ilmReview({ oldInstallations: [ilmEntry("1-23", "1.23.4")], newInstallations: [ilmEntry("1-23", "1.24.2")] })],
    ["another kind", fixture("kubewarden-policy-server.pod_create.review.v1.json")],
  ])("never patches %s", async (_what, review) => {
    const response = await mutate(review);
    expect(response.allowed).toBe(true);
    expect(response.patch).toBeUndefined();
    expect(response.patchType).toBeUndefined();
  });

  it("rejects a body that is not an AdmissionReview with 400, and other methods with 405", async () => {
    expect((await t.app.inject({ method: "POST", url: "/mutate", payload: { kind: "Pod" } })).statusCode).toBe(400);
    expect((await t.app.inject({ method: "GET", url: "/mutate" })).statusCode).toBe(405);
  });
});

describe("POST /mutate writes its patch directly", () => {
  it("is not served unless CANARY_DEFAULTING is on", async () => {
    const off = await webhookTestApp();
    try {
      const res = await off.app.inject({ method: "POST", url: "/mutate", payload: canaryAddedAsDefault() });
      expect(res.statusCode).toBe(404);
      expect((await off.app.inject({ method: "POST", url: "/validate", payload: canaryAddedAsDefault() })).statusCode).toBe(200);
    } finally {
      await off.app.close();
    }
  });

  it("answers the shape that blew up a generic diff (300 defaults kept, 300 added) with one replace per added entry", async () => {
    const kept = Array.from({ length: 300 }, (_, i) => ilmEntry(`k${i}`, "1.23.4", { clusters: [`c${i}`] }));
    const added = Array.from({ length: 300 }, (_, i) => ilmEntry(`n${i}`, "1.24.2", { clusters: [`c${i}`] }));
    const review = ilmReview({ oldInstallations: kept, newInstallations: [...kept, ...added] }) as { request: { object: { spec: { installations: { clusters: { defaultRevision?: boolean }[] }[] } } } };
    const response = await mutate(review);
    const operations = JSON.parse(Buffer.from(response.patch ?? "", "base64").toString("utf8")) as { op: string; path: string; value: unknown }[];
    expect(operations).toHaveLength(300);
    expect(operations[0]).toEqual({ op: "replace", path: "/spec/installations/300/clusters/0/defaultRevision", value: false });
    expect(new Set(operations.map((o) => o.op))).toEqual(new Set(["replace"]));
    const patched = applied(review, response) as typeof review.request.object;
    expect(patched.spec.installations.slice(300).every((e) => e.clusters[0]?.defaultRevision === false)).toBe(true);
    expect(patched.spec.installations.slice(0, 300).every((e) => e.clusters[0]?.defaultRevision === true)).toBe(true);
  });

  it("adds the flag where a cluster listing of the canary has none but the entry is flagged through another listing", async () => {
    const review = ilmReview({
      oldInstallations: [ilmEntry("1-23", "1.23.4")],
      newInstallations: [ilmEntry("1-23", "1.23.4"), { revision: "1-24", clusters: [{ name: "cluster1", defaultRevision: true }, { name: "cluster1" }], istioOperatorSpec: { tag: "1.24.2" } }],
    }) as { request: { object: unknown } };
    const response = await mutate(review);
    const operations = JSON.parse(Buffer.from(response.patch ?? "", "base64").toString("utf8")) as { op: string; path: string }[];
    expect(operations).toEqual([
      { op: "replace", path: "/spec/installations/1/clusters/0/defaultRevision", value: false },
      { op: "add", path: "/spec/installations/1/clusters/1/defaultRevision", value: false },
    ]);
    applied(review as never, response);
  });
});
