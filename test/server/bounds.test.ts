import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseTag, tagCacheSize } from "../../src/lifecycle/tags.js";
import { buildWebhookApp } from "../../src/server/app.js";
import { DEFAULT_BODY_LIMIT_BYTES } from "../../src/server/config.js";
import { Metrics } from "../../src/server/metrics.js";
import type { FastifyInstance } from "fastify";
import { capturedLogger } from "../helpers/logs.js";
import { minorBumpReview, patchUpgradeReview } from "../helpers/reviews.js";

let app: FastifyInstance;
let metrics: Metrics;
beforeAll(async () => {
  metrics = new Metrics({ processMetrics: false });
  app = await buildWebhookApp({ logger: capturedLogger("silent").logger, bodyLimitBytes: DEFAULT_BODY_LIMIT_BYTES, maxInFlightBytes: 8 * 1024 * 1024, engineOptions: () => ({}), metrics });
});
afterAll(async () => app.close());

const post = (headers: Record<string, string>, payload: unknown = patchUpgradeReview()) =>
  app.inject({ method: "POST", url: "/validate", headers: { "content-type": "application/json", ...headers }, payload: JSON.stringify(payload) });

describe("what a request must be before its body is read", () => {
  it.each(["latin1", "ISO-8859-1", "utf-16", '"windows-1252"'])("a declared charset %s gets 415, not a mangled uid", async (charset) => {
    const res = await post({ "content-type": `application/json; charset=${charset}` });
    expect(res.statusCode).toBe(415);
    expect(res.body).toMatch(/^unsupported charset /);
  });

  it.each(["utf-8", "UTF-8", "utf8", '"utf-8"'])("charset %s is read", async (charset) => {
    expect((await post({ "content-type": `application/json; charset=${charset}` })).statusCode).toBe(200);
  });

  it.each(["gzip", "deflate", "br", "gzip, identity"])("Content-Encoding %s gets 415, not 'not valid JSON'", async (encoding) => {
    const res = await post({ "content-encoding": encoding });
    expect(res.statusCode).toBe(415);
    expect(res.body).toMatch(/^unsupported Content-Encoding /);
  });

  it("Content-Encoding identity is read", async () => {
    expect((await post({ "content-encoding": "identity" })).statusCode).toBe(200);
  });
});

describe("metric labels come from closed sets", () => {
  it("a review's own kind and operation strings never become label values", async () => {
    for (let i = 0; i < 50; i++) {
      const review = minorBumpReview({ uid: `m-${i}` }) as { request: Record<string, unknown> };
      review.request.kind = { group: "x", version: "v1", kind: `Kind${i}${"k".repeat(1000)}` };
      review.request.operation = `OP${i}`;
      await post({}, review);
    }
    await post({}, minorBumpReview());
    const text = await metrics.registry.metrics();
    const series = text.split("\n").filter((l) => l.startsWith("lifecycle_guard_admission_requests_total{"));
    expect(series.length).toBeLessThanOrEqual(4);
    expect(series.some((l) => l.includes('kind="other",operation="other"'))).toBe(true);
    expect(series.some((l) => l.includes('kind="IstioLifecycleManager",operation="UPDATE"'))).toBe(true);
    expect(text.length).toBeLessThan(64 * 1024);
  });
});

describe("the tag parse cache is bounded by bytes", () => {
  it("keeps real tags and never keeps absurdly long ones", () => {
    parseTag("1.24.2-solo");
    const before = tagCacheSize();
    for (let i = 0; i < 200; i++) parseTag(`1.24.${i}-${"x".repeat(100_000)}`);
    const after = tagCacheSize();
    expect(after.characters - before.characters).toBe(0);
    for (let i = 0; i < 10_000; i++) parseTag(`1.24.${i}-solo`);
    expect(tagCacheSize().entries).toBeLessThanOrEqual(4096);
    expect(tagCacheSize().characters).toBeLessThanOrEqual(4096 * 128);
  });
});
