import { describe, expect, it } from "vitest";
import { encodeResponse } from "../../src/admission/response.js";
import { decodeReview, engineInputOf } from "../../src/admission/review.js";
import { MAX_TOTAL_WARNING_BYTES, MAX_WARNING_BYTES, shapeWarnings } from "../../src/admission/warnings.js";
import { evaluate } from "../../src/rules/engine.js";
import { ilmEntry, ilmReview, minorBumpReview } from "../helpers/reviews.js";

const bytes = (s: string): number => Buffer.byteLength(s, "utf8");

describe("warnings stay within what the API server shows", () => {
  it("escapes control characters (never drops the warning), removes a Warning: prefix, empties and duplicates", () => {
    expect(shapeWarnings(["LG201 a\nb\tc", "Warning: LG201 a\nb\tc", "", "   ", "LG204 x", "LG204 \u202eevil\u2028line"])).toEqual([
      "LG201 a\\u000ab\\u0009c",
      "LG204 x",
      "LG204 \\u202eevil\\u2028line",
    ]);
  });

  it("cuts each warning to 256 bytes on a character boundary", () => {
    const [shaped] = shapeWarnings([`LG201 ${"→".repeat(200)}`]);
    expect(bytes(shaped ?? "")).toBeLessThanOrEqual(MAX_WARNING_BYTES);
    expect(shaped?.endsWith("…")).toBe(true);
    expect(shaped).not.toContain("\uFFFD");
  });

  it("keeps the total within 4096 bytes", () => {
    const many = Array.from({ length: 40 }, (_, i) => `LG201 cluster${i}: ${"x".repeat(200)}`);
    const shaped = shapeWarnings(many);
    expect(shaped.reduce((n, w) => n + bytes(w), 0)).toBeLessThanOrEqual(MAX_TOTAL_WARNING_BYTES);
    expect(shaped.length).toBeGreaterThan(10);
  });
});

describe("AdmissionReview envelope", () => {
  it.each([
    [null, "JSON AdmissionReview object"],
    [[], "JSON AdmissionReview object"],
    [{ kind: "Pod" }, "must be an AdmissionReview"],
    [{ kind: "AdmissionReview", apiVersion: "admission.k8s.io/v2" }, "unsupported AdmissionReview apiVersion"],
    [{ kind: "AdmissionReview", apiVersion: "admission.k8s.io/v1" }, "has no request"],
    [{ kind: "AdmissionReview", apiVersion: "admission.k8s.io/v1", request: { uid: "" } }, "has no uid"],
  ])("rejects %j", (body, message) => {
    const decoded = decodeReview(body);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.message).toContain(message);
  });

  it("reads the kind from the object when request.kind is missing", () => {
    const review = ilmReview({ newInstallations: [ilmEntry("1-24", "1.24.2")] });
    const request = { ...(review.request as Record<string, unknown>) };
    delete request.kind;
    expect(engineInputOf(request as never)).toMatchObject({ group: "admin.gloo.solo.io", kind: "IstioLifecycleManager", name: "istiod-control-plane" });
  });
});

describe("a denial as kubectl shows it", () => {
  const decoded = decodeReview(minorBumpReview());
  if (!decoded.ok) throw new Error(decoded.message);
  const decision = evaluate(engineInputOf(decoded.review.request));
  const { response } = encodeResponse(decoded.review, decision, { kind: "IstioLifecycleManager", name: "istiod-control-plane" });

  it("is a 422 Invalid status with one cause per deny finding and an index field path", () => {
    expect(response.allowed).toBe(false);
    expect(response.status).toMatchObject({ code: 422, reason: "Invalid", details: { group: "admin.gloo.solo.io", kind: "IstioLifecycleManager", name: "istiod-control-plane" } });
    expect(response.status?.details?.causes).toEqual([
      expect.objectContaining({ field: "spec.installations[0].istioOperatorSpec.tag", message: expect.stringMatching(/^LG102 revision 1-23 on cluster1: tag 1\.23\.4-solo → 1\.24\.2-solo/) }),
    ]);
  });

  it("summarises every cause on one line", () => {
    expect(response.status?.message).toMatch(/^IstioLifecycleManager "istiod-control-plane" was denied by lifecycle-guard: spec\.installations\[0\]\.istioOperatorSpec\.tag: LG102 /);
    expect(response.status?.message).not.toMatch(/[\n\r]/);
  });

  it("carries no warning about the denied field's new state, the audit annotations, and never a patch", () => {
    // LG304 ("revision 1-23 runs tag 1.24.2") would nudge the user to rename the revision in place.
    expect(response.warnings).toBeUndefined();
    expect(response.auditAnnotations).toEqual({ decision: "denied", rules: "LG102" });
    expect(response).not.toHaveProperty("patch");
    expect(response).not.toHaveProperty("patchType");
  });
});
