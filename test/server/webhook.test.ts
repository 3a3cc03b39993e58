import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineRule } from "../../src/rules/types.js";
import { RULES } from "../../src/rules/registry.js";
import { webhookTestApp, type TestApp } from "../helpers/app.js";
import { fixture, ilmEntry, ilmReview, minorBumpReview, patchUpgradeReview } from "../helpers/reviews.js";

let t: TestApp;
beforeAll(async () => {
  t = await webhookTestApp();
});
afterAll(async () => {
  await t.app.close();
});

async function post(body: unknown, contentType = "application/json") {
  return t.app.inject({ method: "POST", url: "/validate?timeout=5s", headers: { "content-type": contentType }, payload: typeof body === "string" ? body : JSON.stringify(body) });
}

/** The bare `request` captures are wrapped the way the API server sends them. */
function envelope(request: unknown, apiVersion = "admission.k8s.io/v1") {
  return { apiVersion, kind: "AdmissionReview", request };
}

describe("the AdmissionReview envelope, with real samples", () => {
  it("answers a v1 Pod CREATE (oldObject null) with an allowed v1 review echoing the uid", async () => {
    const res = await post(fixture("kubewarden-policy-server.pod_create.review.v1.json"));
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.json()).toEqual({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "1299d386-525b-4032-98ae-1949f69f9cfc", allowed: true, auditAnnotations: { decision: "allowed", rules: "" } },
    });
  });

  it("echoes v1beta1 when the request is v1beta1 (legacy review without requestKind or dryRun)", async () => {
    const res = await post(fixture("linkerd2.inject-enabled-request.v1beta1.json"));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ apiVersion: "admission.k8s.io/v1beta1", kind: "AdmissionReview", response: { uid: "3c3c45ff-bee9-11e8-9c41-b4d755961931", allowed: true } });
  });

  it("ignores unknown fields and placeholder values of the round-trip fixtures", async () => {
    for (const name of ["admission.k8s.io.v1.AdmissionReview.json", "admission.k8s.io.v1beta1.AdmissionReview.json"]) {
      const review = fixture(name);
      const res = await post(review);
      expect(res.statusCode, name).toBe(200);
      expect(res.json().response).toMatchObject({ uid: "uidValue", allowed: true });
      expect(res.json().apiVersion).toBe(review.apiVersion);
    }
  });

  it("allows a DELETE with a null object", async () => {
    const res = await post(envelope(fixture("kubewarden-pod-privileged.req_delete.request.json")));
    expect(res.json().response).toMatchObject({ uid: "6230ff1b-7dd7-42af-88d2-fbf9aecde94b", allowed: true });
  });

  it("allows a Deployment CREATE without an oldObject key", async () => {
    const request = { ...fixture("kubewarden-envvar.deployment_create.request.json"), uid: "e6a1c5a8-0d4b-4f5e-9d6a-1c2b3d4e5f60" };
    const res = await post(envelope(request));
    expect(res.json().response).toMatchObject({ uid: "e6a1c5a8-0d4b-4f5e-9d6a-1c2b3d4e5f60", allowed: true });
  });

  it("denies an ILM DELETE that would uninstall a revision (LG701), as 403 Forbidden", async () => {
    const res = await post(ilmReview({ operation: "DELETE", oldInstallations: [ilmEntry("1-23", "1.23.4")], newInstallations: null }));
    expect(res.json().response).toMatchObject({ allowed: false, status: { code: 403, reason: "Forbidden" }, auditAnnotations: { decision: "denied", rules: "LG701" } });
  });
});

describe("decisions", () => {
  it("allows a patch upgrade silently", async () => {
    const res = await post(patchUpgradeReview());
    expect(res.json().response).toEqual({ uid: "0b8a4c51-6d3e-4c1b-9d5b-6a1f0f3c2e11", allowed: true, auditAnnotations: { decision: "allowed", rules: "" } });
  });

  it("denies a minor bump as a 200 review with a 422 Invalid status kubectl edit can show", async () => {
    const res = await post(minorBumpReview());
    expect(res.statusCode).toBe(200);
    const response = res.json().response;
    expect(response.allowed).toBe(false);
    expect(response.status.code).toBe(422);
    expect(response.status.reason).toBe("Invalid");
    expect(response.status.details.causes[0]).toMatchObject({ field: "spec.installations[0].istioOperatorSpec.tag", message: expect.stringContaining("LG102 revision 1-23") });
    expect(response.status.details.causes[0].message).toContain("revision 1-24");
    expect(response).not.toHaveProperty("patch");
  });

  it("gives a dry run exactly the same answer", async () => {
    const real = (await post(minorBumpReview({ dryRun: false }))).json();
    const dry = (await post(minorBumpReview({ dryRun: true }))).json();
    expect(dry).toEqual(real);
  });

  it("returns warnings on an allowed request", async () => {
    const res = await post(ilmReview({ newInstallations: [ilmEntry("1-23", "1.23.4"), ilmEntry("1-24", "1.24.2")] }));
    expect(res.json().response).toMatchObject({ allowed: true, warnings: ["LG201 cluster1: revisions 1-23 and 1-24 are both defaultRevision; keep exactly one."] });
  });

  it("accepts a request near 7 MiB (two 3 MiB objects)", async () => {
    const padding = "x".repeat(3 * 1024 * 1024);
    const review = patchUpgradeReview();
    const request = review.request as { object: { metadata: Record<string, unknown> }; oldObject: { metadata: Record<string, unknown> } };
    request.object.metadata.annotations = { padding };
    request.oldObject.metadata.annotations = { padding };
    const res = await post(review);
    expect(res.statusCode).toBe(200);
    expect(res.json().response.allowed).toBe(true);
  });
});

describe("what is not a decision", () => {
  it.each([
    ["not JSON", "{not json", "application/json", 400, "not valid JSON"],
    ["an empty body", "", "application/json", 400, "empty"],
    ["a bare request without the envelope", JSON.stringify(fixture("kubewarden-pod-privileged.req_delete.request.json")), "application/json", 400, "must be an AdmissionReview"],
    ["a review without uid", JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { operation: "CREATE" } }), "application/json", 400, "no uid"],
    ["a text body", "hello", "text/plain", 415, "Content-Type"],
    ["a YAML body", "kind: AdmissionReview", "application/yaml", 415, "Content-Type"],
  ])("%s gets %i... ", async (_what, body, type, status, message) => {
    const res = await post(body, type);
    expect(res.statusCode).toBe(status);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    expect(res.body).toContain(message);
  });

  it("answers 405 with Allow: POST for other methods on /validate, and 404 elsewhere", async () => {
    const get = await t.app.inject({ method: "GET", url: "/validate" });
    expect(get.statusCode).toBe(405);
    expect(get.headers.allow).toBe("POST");
    expect((await t.app.inject({ method: "POST", url: "/mutate-everything", payload: {} })).statusCode).toBe(404);
  });

  it("turns a rule that throws into a 500-coded denial naming the rule, and keeps serving", async () => {
    const broken = defineRule({ id: "LG999", severity: "deny", operations: ["CREATE", "UPDATE"], summary: "throws", doc: { why: "a test rule", fix: "none" } }, () => {
      throw new Error("boom");
    });
    const failing = await webhookTestApp({ rules: [...RULES, broken] });
    const res = await failing.app.inject({ method: "POST", url: "/validate", payload: patchUpgradeReview() });
    expect(res.statusCode).toBe(200);
    expect(res.json().response).toMatchObject({ allowed: false, status: { code: 500, message: expect.stringContaining("rule LG999 failed (boom)") } });
    const again = await failing.app.inject({ method: "POST", url: "/validate", payload: fixture("kubewarden-policy-server.pod_create.review.v1.json") });
    expect(again.json().response.allowed).toBe(true);
    expect(failing.logs.some((l) => l.failedRule === "LG999" && l.level === 50)).toBe(true);
    await failing.app.close();
  });
});

describe("the decision log", () => {
  it("writes one JSON line per decision with the fields an operator greps for, and no object", async () => {
    const before = t.logs.length;
    await post(minorBumpReview({ uid: "log-uid-1", dryRun: true }));
    const lines = t.logs.slice(before).filter((l) => l.msg === "admission decision");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      uid: "log-uid-1",
      kind: "IstioLifecycleManager",
      namespace: "gloo-mesh",
      name: "istiod-control-plane",
      operation: "UPDATE",
      dryRun: true,
      decision: "denied",
      rules: "LG102",
      durationMs: expect.any(Number),
    });
    expect(JSON.stringify(t.logs.slice(before))).not.toContain("istioOperatorSpec");
  });
});
