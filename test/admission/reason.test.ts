import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhookTestApp, type TestApp } from "../helpers/app.js";
import { ilmEntry, ilmReview, minorBumpReview, type ReviewOptions } from "../helpers/reviews.js";

/**
 * kubectl apply --force, Argo CD's Force=true and Flux's force DELETE and re-CREATE an object
 * when an update is refused as Invalid or Conflict (kubectl cmd/apply/patcher.go, fluxcd/pkg ssa
 * IsImmutableError). For a lifecycle manager that is an uninstall of its control planes. Only
 * kubectl edit, which reopens the editor for Invalid alone, may get Invalid.
 */
let t: TestApp;
beforeAll(async () => {
  t = await webhookTestApp();
});
afterAll(async () => {
  await t.app.close();
});

interface Answer {
  readonly allowed: boolean;
  readonly auditAnnotations: Record<string, string>;
  readonly status: { code: number; reason: string; message: string; details: { causes: { field: string; message: string }[] } };
}

async function answer(review: unknown): Promise<Answer> {
  const res = await t.app.inject({ method: "POST", url: "/validate?timeout=5s", headers: { "content-type": "application/json" }, payload: JSON.stringify(review) });
  expect(res.statusCode).toBe(200);
  return res.json().response;
}

const hubChange = (options: ReviewOptions) =>
  ilmReview({
    oldInstallations: [ilmEntry("1-23", "1.23.4-solo", { hub: "us-docker.pkg.dev/gloo-mesh/istio-workshops" })],
    newInstallations: [ilmEntry("1-23", "1.23.4-solo", { hub: "registry.example.com/istio" })],
    ...options,
  });

describe("the denial's reason follows the client", () => {
  const managers: [string | null, number, string][] = [
    ["kubectl-edit", 422, "Invalid"],
    ["kubectl-client-side-apply", 403, "Forbidden"],
    ["kubectl", 403, "Forbidden"],
    ["kubectl-patch", 403, "Forbidden"],
    ["kustomize-controller", 403, "Forbidden"],
    ["argocd-controller", 403, "Forbidden"],
    ["helm", 403, "Forbidden"],
    ["", 403, "Forbidden"],
    [null, 403, "Forbidden"],
  ];

  it.each(managers)("field manager %j: %d %s, with the causes and a message naming the rule", async (fieldManager, code, reason) => {
    for (const dryRun of [false, true]) {
      const response = await answer(hubChange({ fieldManager, dryRun }));
      expect(response.allowed).toBe(false);
      expect(response.status.code).toBe(code);
      expect(response.status.reason).toBe(reason);
      expect(response.status.details.causes).toEqual([expect.objectContaining({ field: "spec.installations[0].istioOperatorSpec.hub", message: expect.stringMatching(/^LG110 /) })]);
      // kubectl apply, Argo CD and Flux print the message only: it holds every cause, rule id included.
      expect(response.status.message).toContain("spec.installations[0].istioOperatorSpec.hub: LG110 ");
      expect(response.status.message).toContain("registry.example.com/istio");
    }
  });

  it("a message holds every cause's text when there are several", async () => {
    const response = await answer(
      ilmReview({
        oldInstallations: [ilmEntry("1-23", "1.23.4-solo")],
        newInstallations: [ilmEntry("1-23", "1.24.2-solo", { hub: "registry.example.com/istio" })],
        fieldManager: "argocd-controller",
      }),
    );
    const causes = response.status.details.causes;
    expect(causes.map((c) => c.message.slice(0, 5))).toEqual(["LG102", "LG110"]);
    for (const cause of causes) expect(response.status.message).toContain(cause.message);
  });

  it("never says immutable, even when the object's own values do", async () => {
    const response = await answer(
      ilmReview({
        oldInstallations: [ilmEntry("1-23", "1.23.4-solo", { hub: "old.example.com/istio" })],
        newInstallations: [ilmEntry("1-23", "1.23.4-solo", { hub: "this field is immutable field" })],
        fieldManager: "kustomize-controller",
      }),
    );
    const text = JSON.stringify(response.status);
    expect(text).not.toMatch(/is\simmutable|immutable\sfield/);
    expect(text).not.toMatch(/immutable/i);
    expect(response.status.message).toContain("\\u0069mmutable");
  });

  it("property: no denial is Invalid unless the manager is kubectl-edit, none is Conflict or says immutable", async () => {
    const manager = fc.oneof(fc.constantFrom("kubectl-edit", "kubectl", "kubectl-client-side-apply", "kustomize-controller", "argocd-controller", "helm", "kubectl-edit "), fc.string({ maxLength: 20 }));
    const tag = fc.constantFrom("1.23.4-solo", "1.23.3-solo", "1.24.2-solo", "1.23.5-solo", "latest", "", "1.23.4-solo-fips");
    const hub = fc.constantFrom("us-docker.pkg.dev/gloo-mesh/istio-workshops", "immutable.example.com", "x is immutable");
    await fc.assert(
      fc.asyncProperty(manager, tag, hub, fc.boolean(), fc.constantFrom("UPDATE", "DELETE") as fc.Arbitrary<"UPDATE" | "DELETE">, async (fieldManager, newTag, newHub, dryRun, operation) => {
        const review = ilmReview({
          operation,
          oldInstallations: [ilmEntry("1-23", "1.23.4-solo")],
          newInstallations: operation === "DELETE" ? null : [ilmEntry("1-23", newTag, { hub: newHub })],
          fieldManager,
          dryRun,
        });
        const response = await answer(review);
        if (response.allowed) return;
        expect(response.status.reason).not.toBe("Conflict");
        expect(response.status.code).not.toBe(409);
        if (fieldManager !== "kubectl-edit") {
          expect(response.status.reason).not.toBe("Invalid");
          expect(response.status.code).not.toBe(422);
        }
        expect(JSON.stringify(response.status)).not.toMatch(/immutable/i);
      }),
      { numRuns: 150 },
    );
  });
});

describe("deletion protection (LG701) over the protocol", () => {
  const del = (options: ReviewOptions = {}) => ilmReview({ operation: "DELETE", oldInstallations: [ilmEntry("1-23", "1.23.4-solo", { clusters: ["cluster1", "cluster2"] })], newInstallations: null, ...options });

  it.each([false, true])("denies a DELETE (dryRun %s) naming what it uninstalls and the annotate command", async (dryRun) => {
    const response = await answer(del({ dryRun }));
    expect(response).toMatchObject({ allowed: false, status: { code: 403, reason: "Forbidden" }, auditAnnotations: { decision: "denied", rules: "LG701" } });
    expect(response.status.message).toContain("uninstalls revision 1-23 from cluster1 and cluster2");
    expect(response.status.message).toContain("kubectl annotate istiolifecyclemanager -n gloo-mesh istiod-control-plane lifecycle-guard.io/allow-delete=true");
  });

  it.each([false, true])("allows the DELETE (dryRun %s) of an object annotated in an earlier edit", async (dryRun) => {
    const response = await answer(del({ dryRun, oldAnnotations: { "lifecycle-guard.io/allow-delete": "true" } }));
    expect(response).toMatchObject({ allowed: true, auditAnnotations: { decision: "allowed", rules: "" } });
  });

  it("lets a denied update through the editor's loop: adding the annotation is an allowed UPDATE", async () => {
    const review = ilmReview({ oldInstallations: [ilmEntry("1-23", "1.23.4-solo")], newInstallations: [ilmEntry("1-23", "1.23.4-solo")] }) as unknown as { request: { object: { metadata: Record<string, unknown> } } };
    review.request.object.metadata.annotations = { "lifecycle-guard.io/allow-delete": "true" };
    expect((await answer(review)).allowed).toBe(true);
  });

  it("allows any DELETE with DELETION_PROTECTION off", async () => {
    const off = await webhookTestApp({ deletionProtection: false });
    try {
      for (const dryRun of [false, true]) {
        const res = await off.app.inject({ method: "POST", url: "/validate", headers: { "content-type": "application/json" }, payload: JSON.stringify(del({ dryRun })) });
        expect(res.json().response).toMatchObject({ allowed: true });
      }
    } finally {
      await off.app.close();
    }
  });
});

describe("a denied UPDATE keeps the minor-bump answer kubectl edit needs", () => {
  it("is 422 Invalid for kubectl-edit with the cause as the field comment", async () => {
    const response = await answer(minorBumpReview());
    expect(response.status).toMatchObject({ code: 422, reason: "Invalid" });
    expect(response.status.details.causes[0]?.field).toBe("spec.installations[0].istioOperatorSpec.tag");
  });
});
