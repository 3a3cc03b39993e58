import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ruleIds } from "../src/admission/response.js";
import { evaluate, type EngineInput } from "../src/rules/engine.js";
import { typicalUpdate } from "../bench/fixtures.js";
import { webhookTestApp, type TestApp } from "../test/helpers/app.js";

const KINDS = ["IstioLifecycleManager", "GatewayLifecycleManager"] as const;
const keyField = (kind: (typeof KINDS)[number]) => (kind === "IstioLifecycleManager" ? "revision" : "gatewayRevision");
const flagField = (kind: (typeof KINDS)[number]) => (kind === "IstioLifecycleManager" ? "defaultRevision" : "activeGateway");

/** Mostly well-typed values, sometimes not: the webhook must survive both. */
const sometimes = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 8, arbitrary: arb }, { weight: 1, arbitrary: fc.jsonValue() });
const revision = fc.oneof(fc.constantFrom("1-23", "1-24", "1-25", "", "auto", "default", "Prod.1", "a".repeat(60)), fc.string({ maxLength: 8 }));
const tag = fc.oneof(fc.constantFrom("1.23.4", "1.24.2-solo", "1.24.2-patch1-solo", "v1.24.0-rc.1", "latest", "1.24", "auto", ""), fc.string({ maxLength: 12 }));
const operatorSpec = fc.record(
  {
    tag: sometimes(tag),
    hub: fc.constantFrom("a.example/istio", "b.example/istio"),
    profile: fc.constantFrom("minimal", "default", "empty"),
    namespace: fc.constantFrom("istio-system", "istio-canary"),
    meshConfig: fc.jsonValue({ maxDepth: 3 }),
    components: fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.record({ ingressGateways: fc.array(fc.record({ name: fc.constantFrom("ingress", "eastwest"), namespace: fc.constantFrom("gw", "other") }), { maxLength: 2 }) }),
    ),
    values: fc.jsonValue({ maxDepth: 4 }),
  },
  { requiredKeys: [] },
);

function lifecycleObject(kind: (typeof KINDS)[number]) {
  const entry = fc.record(
    {
      [keyField(kind)]: sometimes(revision),
      skipUpgradeValidation: sometimes(fc.boolean()),
      controlPlaneRevision: sometimes(revision),
      clusters: sometimes(fc.array(sometimes(fc.record({ name: sometimes(fc.constantFrom("cluster1", "cluster2", "cluster3")), [flagField(kind)]: sometimes(fc.boolean()) }, { requiredKeys: ["name"] })), { maxLength: 4 })),
      istioOperatorSpec: sometimes(operatorSpec),
    },
    { requiredKeys: [] },
  );
  return fc.record({
    apiVersion: fc.constant("admin.gloo.solo.io/v2"),
    kind: fc.constant(kind),
    metadata: fc.record({ name: fc.constant("istiod"), namespace: fc.constant("gloo-mesh") }),
    spec: sometimes(fc.record({ installations: sometimes(fc.array(sometimes(entry), { maxLength: 5 })) }, { requiredKeys: [] })),
  });
}

const kindAndObjects = fc.constantFrom(...KINDS).chain((kind) => fc.tuple(fc.constant(kind), fc.option(lifecycleObject(kind), { nil: null }), lifecycleObject(kind), fc.constantFrom("CREATE", "UPDATE")));

function input(kind: (typeof KINDS)[number], oldObject: unknown, newObject: unknown, operation: string): EngineInput {
  return { operation, group: "admin.gloo.solo.io", kind, namespace: "gloo-mesh", name: "istiod", oldObject, newObject };
}

/** A JSON path to somewhere in `value`, for random edits of a valid object. */
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

function setAt(root: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (replacement === undefined) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = replacement;
  return copy;
}

describe("the engine never throws and always decides the same way", () => {
  it("on random ILM/GLM objects, valid and not", () => {
    fc.assert(
      fc.property(kindAndObjects, ([kind, oldObject, newObject, operation]) => {
        const decision = evaluate(input(kind, oldObject, newObject, operation));
        if (operation === "UPDATE" && oldObject === null) {
          // Nothing to compare with: fail closed rather than read it as a CREATE.
          expect(decision).toMatchObject({ allowed: false, failure: { rule: "engine" } });
          return;
        }
        expect(decision.failure).toBeUndefined();
        expect(typeof decision.allowed).toBe("boolean");
        expect(decision.allowed).toBe(decision.denials.length === 0);
        for (const f of decision.findings) expect(f.message.startsWith(`${f.rule} `)).toBe(true);
        // Deterministic: the same input, again, gives the same decision.
        expect(JSON.stringify(evaluate(input(kind, oldObject, newObject, operation)).findings)).toBe(JSON.stringify(decision.findings));
      }),
      { numRuns: 400 },
    );
  });

  it("on random edits of a realistic object (any value anywhere, deletions)", () => {
    const { oldObject } = typicalUpdate();
    const all = paths(oldObject);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...all), fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined })), { minLength: 1, maxLength: 4 }), (edits) => {
        let edited: unknown = oldObject;
        for (const [path, value] of edits) {
          try {
            edited = setAt(edited, path, value);
          } catch {
            // the path vanished under an earlier edit: skip it
          }
        }
        const decision = evaluate(input("IstioLifecycleManager", oldObject, edited, "UPDATE"));
        expect(decision.failure).toBeUndefined();
        const reverse = evaluate(input("IstioLifecycleManager", edited, oldObject, "UPDATE"));
        // An edit of the root itself leaves no stored object to compare with: refused, never guessed.
        if (edited !== null && typeof edited === "object" && !Array.isArray(edited)) expect(reverse.failure).toBeUndefined();
        else expect(reverse).toMatchObject({ allowed: false, failure: { rule: "engine" } });
      }),
      { numRuns: 400 },
    );
  });
});

describe("every request gets the answer the spec names", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await webhookTestApp({}, "silent");
  });
  afterAll(async () => t.app.close());

  it("a review gets a well-formed answer with its uid, identical for dryRun", async () => {
    await fc.assert(
      fc.asyncProperty(kindAndObjects, fc.uuid(), fc.constantFrom("admission.k8s.io/v1", "admission.k8s.io/v1beta1"), async ([kind, oldObject, newObject, operation], uid, apiVersion) => {
        const request = { uid, kind: { group: "admin.gloo.solo.io", version: "v2", kind }, operation, name: "istiod", namespace: "gloo-mesh", object: newObject, oldObject };
        const answers = [];
        for (const dryRun of [false, true]) {
          const res = await t.app.inject({ method: "POST", url: "/validate", payload: { apiVersion, kind: "AdmissionReview", request: { ...request, dryRun } } });
          if (operation === "UPDATE" && oldObject === null) {
            // The API server always sends the stored object with an UPDATE: without it nothing can be compared.
            expect(res.statusCode).toBe(400);
            expect(res.body).toBe("AdmissionReview of an UPDATE has no oldObject object\n");
            continue;
          }
          expect(res.statusCode).toBe(200);
          const body = res.json();
          const expected = evaluate(input(kind, oldObject, newObject, operation));
          expect(body).toMatchObject({ apiVersion, kind: "AdmissionReview", response: { uid, allowed: expected.allowed } });
          expect(body.response.auditAnnotations).toEqual({ decision: expected.allowed ? "allowed" : "denied", rules: ruleIds(expected).join(",") });
          expect(body.response.status?.code).toBe(expected.allowed ? undefined : 403);
          answers.push(body);
        }
        expect(answers[1]).toEqual(answers[0]);
      }),
      { numRuns: 200 },
    );
  });

  const ilm = { group: "admin.gloo.solo.io", version: "v2", kind: "IstioLifecycleManager" };
  const stored = { apiVersion: "admin.gloo.solo.io/v2", kind: "IstioLifecycleManager", metadata: { name: "istiod", namespace: "gloo-mesh" }, spec: { installations: [{ revision: "1-23", clusters: [{ name: "cluster1", defaultRevision: true }], istioOperatorSpec: { tag: "1.23.4-solo" } }] } };
  const bumped = { ...stored, spec: { installations: [{ revision: "1-23", clusters: [{ name: "cluster1", defaultRevision: true }], istioOperatorSpec: { tag: "1.24.2-solo" } }] } };
  const envelope = (request: Record<string, unknown>) => ({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "m-1", kind: ilm, name: "istiod", namespace: "gloo-mesh", ...request } });
  it.each([
    ["operation in lower case", envelope({ operation: "update", object: bumped, oldObject: stored }), 400, "AdmissionReview request.operation must be CREATE, UPDATE, DELETE or CONNECT, got \"update\"\n"],
    ["no operation", envelope({ object: bumped, oldObject: stored }), 400, "AdmissionReview request.operation must be CREATE, UPDATE, DELETE or CONNECT, got \"null\"\n"],
    ["an UPDATE without oldObject", envelope({ operation: "UPDATE", object: bumped }), 400, "AdmissionReview of an UPDATE has no oldObject object\n"],
    ["an UPDATE whose oldObject is a list", envelope({ operation: "UPDATE", object: bumped, oldObject: [stored] }), 400, "AdmissionReview of an UPDATE has no oldObject object\n"],
    ["no uid", { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { operation: "CREATE" } }, 400, "AdmissionReview request has no uid\n"],
    ["a uid of 4 KiB", envelope({ uid: "u".repeat(4096), operation: "CREATE", object: stored }), 400, "AdmissionReview request.uid is longer than 256 characters\n"],
  ])("%s gets exactly %i %j", async (_name, payload, status, body) => {
    const res = await t.app.inject({ method: "POST", url: "/validate", payload });
    expect(res.statusCode).toBe(status);
    expect(res.body).toBe(body);
  });

  it.each([
    ["an UPDATE whose object is a list", envelope({ operation: "UPDATE", object: [bumped], oldObject: stored })],
    ["a CREATE whose object is a string", envelope({ operation: "CREATE", object: "spec" })],
    ["a CREATE without object", envelope({ operation: "CREATE" })],
  ])("%s is exactly an LG305 denial at the object's root", async (_name, payload) => {
    const res = await t.app.inject({ method: "POST", url: "/validate", payload });
    expect(res.statusCode).toBe(200);
    const response = res.json().response;
    expect(response).toMatchObject({ uid: "m-1", allowed: false, auditAnnotations: { decision: "denied", rules: "LG305" }, status: { code: 403, reason: "Forbidden" } });
    expect(response.status.details.causes).toEqual([{ reason: "FieldValueInvalid", field: "", message: expect.stringMatching(/^LG305 the object must be a JSON object, not /) }]);
    expect(response.warnings).toBeUndefined();
  });

  it("random bytes and random JSON get 400 or 415, never 5xx, and the server keeps answering", async () => {
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 512 }).map((b) => ({ payload: Buffer.from(b), type: "application/json" })),
      fc.jsonValue().map((v) => ({ payload: JSON.stringify(v) ?? "null", type: "application/json" })),
      fc.string().map((s) => ({ payload: s, type: fc.sample(fc.constantFrom("text/plain", "application/xml", "application/octet-stream", "application/x-www-form-urlencoded"), 1)[0] as string })),
    );
    await fc.assert(
      fc.asyncProperty(body, async ({ payload, type }) => {
        const res = await t.app.inject({ method: "POST", url: "/validate", headers: { "content-type": type }, payload });
        expect([400, 415]).toContain(res.statusCode);
      }),
      { numRuns: 400 },
    );
    const ok = await t.app.inject({ method: "POST", url: "/validate", payload: { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "still-up", operation: "CREATE" } } });
    expect(ok.json().response).toMatchObject({ uid: "still-up", allowed: true });
  });
});
