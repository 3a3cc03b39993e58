import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { causesOf, MAX_CAUSES } from "../../src/admission/response.js";
import { evaluate } from "../../src/rules/engine.js";
import { webhookTestApp, type TestApp } from "../helpers/app.js";
import { KIND_NAMES, lifecycleObject, loadCaseFiles } from "../helpers/cases.js";
import { ilmEntry, ilmReview, minorBumpReview } from "../helpers/reviews.js";

/** Characters an object's author could use to forge lines or hide text in kubectl output, an editor or a log. */
const FORGING = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

let t: TestApp;
beforeAll(async () => {
  t = await webhookTestApp();
});
afterAll(async () => {
  await t.app.close();
});

async function post(body: unknown) {
  return t.app.inject({ method: "POST", url: "/validate?timeout=5s", headers: { "content-type": "application/json" }, payload: typeof body === "string" ? body : JSON.stringify(body) });
}

type Review = { request: Record<string, unknown> };

describe("reviews the API server never sends are not judged as real", () => {
  it.each(["update", "Update", "PATCH", "", "APPLY"])("operation %j on an ILM is a 400", async (operation) => {
    const review = minorBumpReview() as Review;
    review.request.operation = operation;
    const res = await post(review);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain("operation must be CREATE, UPDATE, DELETE or CONNECT");
  });

  it("a missing operation on an ILM is a 400", async () => {
    const review = minorBumpReview() as Review;
    delete review.request.operation;
    expect((await post(review)).statusCode).toBe(400);
  });

  it.each([null, "x", [], 42])("an UPDATE whose oldObject is %j is a 400, never a minor bump let through", async (oldObject) => {
    const review = minorBumpReview() as Review;
    review.request.oldObject = oldObject;
    const res = await post(review);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain("UPDATE has no oldObject object");
  });

  it("an UPDATE without an oldObject key is a 400", async () => {
    const review = minorBumpReview() as Review;
    delete review.request.oldObject;
    expect((await post(review)).statusCode).toBe(400);
  });

  it.each([[[{ revision: "1-23" }]], ["spec"], [null], [7]])("a CREATE/UPDATE whose object is %j is LG305, denied", async (object) => {
    for (const operation of ["CREATE", "UPDATE"]) {
      const review = minorBumpReview() as Review;
      review.request.operation = operation;
      review.request.object = object;
      const res = await post(review);
      expect(res.statusCode).toBe(200);
      const response = res.json().response;
      expect(response.allowed).toBe(false);
      expect(response.auditAnnotations.rules).toBe("LG305");
      expect(response.warnings).toBeUndefined();
    }
  });

  it("a CONNECT of an ILM is not judged", async () => {
    const review = minorBumpReview() as Review;
    review.request.operation = "CONNECT";
    expect((await post(review)).json().response.allowed).toBe(true);
  });

  it("other kinds keep their answer whatever the operation says", async () => {
    const review = minorBumpReview() as Review;
    review.request.kind = { group: "", version: "v1", kind: "ConfigMap" };
    review.request.operation = "weird";
    expect((await post(review)).json().response.allowed).toBe(true);
  });

  it("a uid longer than any the API server sends is a 400", async () => {
    expect((await post(minorBumpReview({ uid: "u".repeat(300) }))).statusCode).toBe(400);
  });
});

describe("__proto__ and constructor keys in free-form parts are decided, without pollution", () => {
  const withKeys = (values: string) =>
    `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"proto-1","kind":{"group":"admin.gloo.solo.io","version":"v2","kind":"IstioLifecycleManager"},"name":"istiod-control-plane","namespace":"gloo-mesh","operation":"UPDATE",` +
    `"oldObject":{"apiVersion":"admin.gloo.solo.io/v2","kind":"IstioLifecycleManager","metadata":{"name":"istiod-control-plane","namespace":"gloo-mesh"},"spec":{"installations":[{"revision":"1-23","clusters":[{"name":"cluster1","defaultRevision":true}],"istioOperatorSpec":{"tag":"1.23.4-solo","values":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}}]}},` +
    `"object":{"apiVersion":"admin.gloo.solo.io/v2","kind":"IstioLifecycleManager","metadata":{"name":"istiod-control-plane","namespace":"gloo-mesh"},"spec":{"installations":[{"revision":"1-23","clusters":[{"name":"cluster1","defaultRevision":true}],"istioOperatorSpec":{"tag":"1.23.5-solo","values":${values}}}]}}}}`;

  it("a patch upgrade of an object that carries them is allowed", async () => {
    const res = await post(withKeys(`{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}`));
    expect(res.statusCode).toBe(200);
    expect(res.json().response).toMatchObject({ uid: "proto-1", allowed: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("a change inside them is seen (LG113), and nothing is polluted", async () => {
    const res = await post(withKeys(`{"__proto__":{"polluted":false},"constructor":{"prototype":{"polluted":true}}}`));
    expect(res.json().response).toMatchObject({ allowed: false, auditAnnotations: { rules: "LG113" } });
    expect(res.json().response.status.details.causes[0].field).toBe("spec.installations[0].istioOperatorSpec.values.__proto__.polluted");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("a constructor key added where the old object had none is a values change, not a comparison with Object", async () => {
    const res = await post(withKeys(`{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"toString":"x"}`));
    expect(res.json().response.status.details.causes[0].message).toContain("values.toString changed ((unset) → x)");
  });
});

describe("output an object's author cannot forge", () => {
  const evil = ["\n# * spec.x: LG000 all good", "\r\u001b[2J", "\u001b]52;c;ZXZpbA==\u0007", "\u202etxt.exe", "a\u2028b", "\u200bzw", "\u0085nel"];

  it.each(evil)("a cluster, revision, hub and values key holding %j never reach the answer raw", async (bad) => {
    const old = [{ revision: `1-23${bad}`, clusters: [{ name: `cluster${bad}`, defaultRevision: true }], istioOperatorSpec: { hub: `old${bad}`, tag: `1.23.4${bad}`, values: { [`k${bad}`]: 1 } } }];
    const now = [{ revision: `1-23${bad}`, clusters: [{ name: `cluster${bad}`, defaultRevision: true }], istioOperatorSpec: { hub: `new${bad}`, tag: `1.24.4${bad}`, values: { [`k${bad}`]: 2 } } }];
    for (const fieldManager of ["kubectl-edit", "argocd-controller"]) {
      const before = t.logs.length;
      const res = await post(ilmReview({ oldInstallations: old, newInstallations: now, fieldManager }));
      const response = res.json().response;
      expect(response.allowed).toBe(false);
      const texts = [response.status.message, ...response.status.details.causes.flatMap((c: { field: string; message: string }) => [c.field, c.message]), ...(response.warnings ?? [])];
      for (const text of texts) expect(text).not.toMatch(FORGING);
      for (const line of t.logs.slice(before)) expect(JSON.stringify(line)).not.toMatch(FORGING);
    }
  });

  it("property: no answer, cause field or warning holds a control, bidi or separator character", async () => {
    const nasty = fc.string({ unit: fc.constantFrom("a", "1", "-", ".", "\n", "\r", "\u001b", "\u202e", "\u2066", "\u2028", "\u2029", "\u200b", "\ufeff", "\u0085", "\u007f", "\ud800"), maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(nasty, nasty, nasty, nasty, async (revision, cluster, tag, key) => {
        const entry = (t2: string, v: number) => ({ revision, clusters: [{ name: cluster, defaultRevision: true }, { name: cluster }], istioOperatorSpec: { tag: t2, values: { [key]: v } } });
        const res = await post(ilmReview({ oldInstallations: [entry(`1.23.4${tag}`, 1)], newInstallations: [entry(`1.24.4${tag}`, 2), entry(tag, 3)], fieldManager: "kubectl" }));
        expect(res.statusCode).toBe(200);
        const response = res.json().response;
        const texts = [response.status?.message ?? "", ...(response.status?.details?.causes ?? []).flatMap((c: { field: string; message: string }) => [c.field, c.message]), ...(response.warnings ?? [])];
        for (const text of texts) expect(text).not.toMatch(FORGING);
      }),
      { numRuns: 120 },
    );
  });

  it("cuts long values with … and keeps the whole answer far under 64 KiB", async () => {
    const long = "x".repeat(5000);
    const res = await post(ilmReview({ oldInstallations: [ilmEntry("1-23", `1.23.4-${long}`, { hub: long })], newInstallations: [ilmEntry("1-23", `1.24.4-${long}`, { hub: `${long}y` })], fieldManager: "kubectl" }));
    const response = res.json().response;
    for (const cause of response.status.details.causes) {
      expect(cause.message).toContain("…");
      expect(cause.message.length).toBeLessThan(500);
    }
    expect(res.body.length).toBeLessThan(8 * 1024);
  });

  it("carries at most 20 causes, the last saying how many more there were", async () => {
    const many = (tag: string) => Array.from({ length: 60 }, (_, i) => ilmEntry(`r${i}`, tag, { clusters: [`c${i}`] }));
    const res = await post(ilmReview({ oldInstallations: many("1.23.4-solo"), newInstallations: many("1.24.2-solo"), fieldManager: "kubectl" }));
    const causes = res.json().response.status.details.causes;
    expect(causes).toHaveLength(MAX_CAUSES);
    expect(causes[MAX_CAUSES - 1].message).toMatch(/^and 41 more problems \(LG102\)/);
    expect(res.body.length).toBeLessThan(16 * 1024);
  });
});

describe("cause messages are short enough for a terminal that does not wrap", () => {
  it("the guide's minor bump reads in about 200 characters and names lifecycle-guard rules LG102", () => {
    const [cause] = causesOf(evaluate({ operation: "UPDATE", group: "admin.gloo.solo.io", kind: "IstioLifecycleManager", oldObject: lifecycleObject("ILM", [ilmEntry("1-23", "1.23.4-solo")]), newObject: lifecycleObject("ILM", [ilmEntry("1-23", "1.24.2-solo")]) }).denials);
    expect(cause?.message.length).toBeLessThanOrEqual(250);
    expect(cause?.message).toMatch(/\(lifecycle-guard rules LG102\)$/);
  });

  it("every denial in the rule tables names its rule's docs and stays within 340 characters; warnings within 256", () => {
    for (const file of loadCaseFiles()) {
      for (const c of file.cases) {
        const kind = c.kind ?? "ILM";
        const old = c.oldObject ?? (c.old === undefined ? undefined : lifecycleObject(kind, c.old));
        const decision = evaluate({
          operation: c.operation ?? (old ? "UPDATE" : "CREATE"),
          group: "admin.gloo.solo.io",
          kind: KIND_NAMES[kind],
          namespace: "gloo-mesh",
          name: "istiod-control-plane",
          oldObject: old ?? null,
          newObject: "newObject" in c ? c.newObject : lifecycleObject(kind, c.new),
        });
        for (const cause of causesOf(decision.denials)) {
          expect(cause.message.length, cause.message).toBeLessThanOrEqual(340);
          expect(cause.message).toMatch(/\(lifecycle-guard rules LG\d{3}\)$/);
        }
        for (const warning of decision.warnings) expect(warning.message.length, warning.message).toBeLessThanOrEqual(256);
      }
    }
  });
});

describe("ratcheting over the protocol", () => {
  const twice = () => [{ revision: "1-24", clusters: [{ name: "cluster1", defaultRevision: true }, { name: "cluster1", defaultRevision: true }], istioOperatorSpec: { tag: "1.24.2-solo" } }];

  it("an UPDATE that only changes a label of an object listing cluster1 twice is allowed with an LG302 warning", async () => {
    const review = ilmReview({ oldInstallations: twice(), newInstallations: twice(), fieldManager: "kubectl-label" }) as { request: { object: { metadata: Record<string, unknown> } } };
    review.request.object.metadata.labels = { team: "mesh" };
    const response = (await post(review)).json().response;
    expect(response.allowed).toBe(true);
    expect(response.warnings).toEqual([expect.stringMatching(/^LG302 revision 1-24 lists cluster cluster1 twice; list it once\. \(pre-existing/)]);
  });

  it("the annotation that allows a delete can be set on such an object", async () => {
    const review = ilmReview({ oldInstallations: twice(), newInstallations: twice() }) as { request: { object: { metadata: Record<string, unknown> } } };
    review.request.object.metadata.annotations = { "lifecycle-guard.io/allow-delete": "true" };
    expect((await post(review)).json().response.allowed).toBe(true);
  });

  it("adding the duplicate in an UPDATE is denied with LG302", async () => {
    const response = (await post(ilmReview({ oldInstallations: [{ revision: "1-24", clusters: [{ name: "cluster1", defaultRevision: true }], istioOperatorSpec: { tag: "1.24.2-solo" } }], newInstallations: twice() }))).json().response;
    expect(response).toMatchObject({ allowed: false, auditAnnotations: { rules: "LG302" } });
  });
});

describe("LG209 through the server", () => {
  it("an inactive GLM revision renamed in place is allowed with the LG209 warning", async () => {
    const entry = (revision: string) => ({ gatewayRevision: revision, clusters: [{ name: "cluster1", activeGateway: false }], istioOperatorSpec: { profile: "empty", components: { ingressGateways: [{ name: "istio-ingressgateway", namespace: "gloo-mesh-gateways" }] } } });
    const review = ilmReview({ oldInstallations: [entry("1-23")], newInstallations: [entry("1-24")] }) as { request: Record<string, unknown> & { object: Record<string, unknown>; oldObject: Record<string, unknown> } };
    review.request.kind = { group: "admin.gloo.solo.io", version: "v2", kind: "GatewayLifecycleManager" };
    review.request.object.kind = "GatewayLifecycleManager";
    review.request.oldObject.kind = "GatewayLifecycleManager";
    const response = (await post(review)).json().response;
    expect(response.allowed).toBe(true);
    expect(response.warnings).toEqual([expect.stringMatching(/^LG209 cluster1: gatewayRevision 1-23 is renamed to 1-24 in place/)]);
  });
});
