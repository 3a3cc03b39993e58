import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RULES } from "../../src/rules/registry.js";
import { defineRule } from "../../src/rules/types.js";
import { testPki, writeKubeletSecret, type TestPki } from "../helpers/certs.js";
import { getHttp, postHttps } from "../helpers/https.js";
import { minorBumpReview, patchUpgradeReview } from "../helpers/reviews.js";
import { eventually, startTestServer, sleep, type TestServer } from "../helpers/server.js";

let pki: TestPki;
let root: string;
const DAY = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  pki = await testPki();
  root = await mkdtemp(join(tmpdir(), "lifecycle-guard-ops-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function secretDir(name: string, cert: { certPem: string; keyPem: string }, key?: { keyPem: string }): Promise<string> {
  const dir = join(root, name);
  await writeKubeletSecret(dir, { "tls.crt": cert.certPem, "tls.key": (key ?? cert).keyPem });
  return dir;
}

const tlsEnv = (dir: string, extra: Record<string, string> = {}): Record<string, string> => ({ TLS_CERT_FILE: join(dir, "tls.crt"), TLS_KEY_FILE: join(dir, "tls.key"), ...extra });
const sameSerial = (a: string | undefined, b: string): boolean => a?.toLowerCase() === b.toLowerCase();

describe("metrics", () => {
  let t: TestServer;
  beforeAll(async () => {
    const leaf = await pki.issue();
    t = await startTestServer(tlsEnv(await secretDir("metrics", leaf)));
  });
  afterAll(async () => t.server.close());

  it("counts reviews by kind, operation, decision and dry run, with a sub-millisecond latency histogram", async () => {
    const ca = pki.ca.certPem;
    await postHttps(t.server.port, "/validate", patchUpgradeReview(), { ca });
    await postHttps(t.server.port, "/validate", minorBumpReview({ dryRun: true }), { ca });
    await postHttps(t.server.port, "/validate", minorBumpReview({ dryRun: true }), { ca });
    await postHttps(t.server.port, "/validate", "{}", { ca });
    const metrics = await getHttp(t.server.opsPort, "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = metrics.body;
    expect(text).toContain('lifecycle_guard_admission_requests_total{kind="IstioLifecycleManager",operation="UPDATE",decision="allowed",dry_run="false"} 1');
    expect(text).toContain('lifecycle_guard_admission_requests_total{kind="IstioLifecycleManager",operation="UPDATE",decision="denied",dry_run="true"} 2');
    expect(text).toContain('lifecycle_guard_findings_total{rule="LG102",severity="deny"} 2');
    expect(text).toContain('lifecycle_guard_bad_requests_total{status="400"} 1');
    expect(text).toMatch(/lifecycle_guard_admission_duration_seconds_bucket\{le="0\.0001"\} \d+/);
    expect(text).toContain("lifecycle_guard_admission_duration_seconds_count 3");
    const notAfter = Number(/lifecycle_guard_tls_certificate_not_after_seconds (\d+)/.exec(text)?.[1]);
    expect(notAfter).toBe(Math.floor(t.server.currentCertificate().notAfter.getTime() / 1000));
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
  });
});

describe("certificate rotation", () => {
  let t: TestServer;
  let dir: string;
  let first: Awaited<ReturnType<TestPki["issue"]>>;
  beforeAll(async () => {
    first = await pki.issue();
    dir = await secretDir("rotation", first);
    t = await startTestServer(tlsEnv(dir, { CERT_RELOAD_INTERVAL_MS: "1000" }));
  });
  afterAll(async () => t.server.close());

  it("serves a new certificate after a kubelet-style symlink swap, with no failed request", async () => {
    const ca = pki.ca.certPem;
    const second = await pki.issue();
    const results: { ok: boolean; serial?: string; error?: string }[] = [];
    let running = true;
    const client = async (): Promise<void> => {
      while (running) {
        try {
          // agent: false = a new TLS connection each time, so each request sees the current certificate.
          const res = await postHttps(t.server.port, "/validate", patchUpgradeReview(), { ca, agent: false });
          results.push({ ok: res.status === 200 && JSON.parse(res.body).response.allowed === true, ...(res.serial ? { serial: res.serial } : {}) });
        } catch (error) {
          results.push({ ok: false, error: (error as Error).message });
        }
      }
    };
    const clients = [client(), client()];
    await sleep(300);
    const swappedAt = Date.now();
    await writeKubeletSecret(dir, { "tls.crt": second.certPem, "tls.key": second.keyPem });
    const switched = await eventually(() => results.some((r) => sameSerial(r.serial, second.serialNumber)), 15_000);
    const switchMs = Date.now() - swappedAt;
    await sleep(300);
    running = false;
    await Promise.all(clients);

    expect(switched, "the new serial was seen within 15 s").toBe(true);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.length).toBeGreaterThan(10);
    expect(results.some((r) => sameSerial(r.serial, first.serialNumber))).toBe(true);
    const lastSerial = results[results.length - 1]?.serial;
    expect(sameSerial(lastSerial, second.serialNumber)).toBe(true);
    expect(sameSerial(t.server.currentCertificate().serialNumber, second.serialNumber)).toBe(true);
    expect(switchMs).toBeLessThan(15_000);
    const metrics = (await getHttp(t.server.opsPort, "/metrics")).body;
    expect(metrics).toContain('lifecycle_guard_tls_certificate_reloads_total{result="success"} 1');
  });

  it("ignores a new pair whose key does not match, keeps serving the old one and logs an error", async () => {
    const ca = pki.ca.certPem;
    const serving = t.server.currentCertificate().serialNumber;
    const third = await pki.issue();
    const other = await pki.issue();
    await writeKubeletSecret(dir, { "tls.crt": third.certPem, "tls.key": other.keyPem });
    const logged = await eventually(() => t.logs.some((l) => l.level === 50 && String(l.msg).includes("ignoring a changed serving certificate")), 5000);
    expect(logged).toBe(true);
    const res = await postHttps(t.server.port, "/validate", patchUpgradeReview(), { ca, agent: false });
    expect(res.status).toBe(200);
    expect(sameSerial(res.serial, serving)).toBe(true);
    expect((await getHttp(t.server.opsPort, "/readyz")).status).toBe(200);
    expect((await getHttp(t.server.opsPort, "/metrics")).body).toContain('lifecycle_guard_tls_certificate_reloads_total{result="failure"} 1');
  });
});

describe("readiness", () => {
  it("is 503 while the served certificate is expired, and recovers when a valid one arrives", async () => {
    const expired = await pki.issue({ notBefore: new Date(Date.now() - 3 * DAY), notAfter: new Date(Date.now() - DAY) });
    const dir = await secretDir("expired", expired);
    const t = await startTestServer(tlsEnv(dir, { CERT_RELOAD_INTERVAL_MS: "200" }));
    try {
      const ready = await getHttp(t.server.opsPort, "/readyz");
      expect(ready.status).toBe(503);
      expect(ready.body).toMatch(/not ready: the serving certificate \(serial [0-9A-Fa-f]+\) expired at /);
      expect((await getHttp(t.server.opsPort, "/healthz")).status).toBe(200);
      const fresh = await pki.issue();
      await writeKubeletSecret(dir, { "tls.crt": fresh.certPem, "tls.key": fresh.keyPem });
      expect(await eventually(async () => (await getHttp(t.server.opsPort, "/readyz")).status === 200, 5000)).toBe(true);
    } finally {
      await t.server.close();
    }
  });
});

describe("the deadline", () => {
  const slow = defineRule({ id: "LG998", severity: "warn", operations: ["CREATE", "UPDATE"], summary: "slow", doc: { why: "a test rule", fix: "none" } }, () => {
    const until = Date.now() + 150;
    while (Date.now() < until) {
      // busy: a rule stuck on the CPU, as a pathological object would make one
    }
  });

  it.each([
    ["deny", { allowed: false, status: { code: 504, reason: "Timeout", message: expect.stringContaining("could not decide within 0.1s (its share of the API server's 0.2s timeout)") } }],
    ["allow", { allowed: true, warnings: [expect.stringContaining("this change was NOT checked")] }],
  ])("answers before the API server's timeout when it cannot decide (ON_DEADLINE=%s)", async (policy, expected) => {
    const leaf = await pki.issue();
    const t = await startTestServer(tlsEnv(await secretDir(`deadline-${policy}`, leaf), { ON_DEADLINE: policy }), { engineOptions: () => ({ rules: [slow, ...RULES] }) });
    try {
      const ca = pki.ca.certPem;
      const late = await postHttps(t.server.port, "/validate?timeout=200ms", minorBumpReview({ uid: "late" }), { ca });
      expect(JSON.parse(late.body).response).toMatchObject({ uid: "late", ...expected });
      // With the default 10 s, the same review is decided normally.
      const onTime = await postHttps(t.server.port, "/validate?timeout=10s", minorBumpReview({ uid: "on-time" }), { ca });
      expect(JSON.parse(onTime.body).response).toMatchObject({ uid: "on-time", allowed: false, status: { code: 422 } });
      expect((await getHttp(t.server.opsPort, "/metrics")).body).toContain(`lifecycle_guard_deadline_exceeded_total{answer="${policy === "deny" ? "denied" : "allowed"}"} 1`);
    } finally {
      await t.server.close();
    }
  });
});

describe("client certificates (CLIENT_CA_FILE)", () => {
  let t: TestServer;
  let clientPki: TestPki;
  beforeAll(async () => {
    clientPki = await testPki();
    const caFile = join(root, "client-ca.crt");
    await writeFile(caFile, clientPki.ca.certPem);
    const leaf = await pki.issue();
    t = await startTestServer(tlsEnv(await secretDir("mtls", leaf), { CLIENT_CA_FILE: caFile }));
  });
  afterAll(async () => t.server.close());

  it("accepts a client certificate signed by the client CA", async () => {
    const client = await clientPki.issue({ client: true });
    const res = await postHttps(t.server.port, "/validate", patchUpgradeReview(), { ca: pki.ca.certPem, cert: client.certPem, key: client.keyPem, agent: false });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).response.allowed).toBe(true);
  });

  it("rejects a client without a certificate, or with one from another CA", async () => {
    await expect(postHttps(t.server.port, "/validate", patchUpgradeReview(), { ca: pki.ca.certPem, agent: false })).rejects.toThrow();
    const stranger = await (await testPki()).issue({ client: true });
    await expect(postHttps(t.server.port, "/validate", patchUpgradeReview(), { ca: pki.ca.certPem, cert: stranger.certPem, key: stranger.keyPem, agent: false })).rejects.toThrow();
  });
});

describe("connection timeouts", () => {
  it("keeps an idle pooled connection open past the headers timeout, but closes a client stuck in its headers", async () => {
    const leaf = await pki.issue();
    const t = await startTestServer(tlsEnv(await secretDir("timeouts", leaf), { HEADERS_TIMEOUT_MS: "1000" }));
    const ca = pki.ca.certPem;
    const agent = new (await import("node:https")).Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await postHttps(t.server.port, "/validate", patchUpgradeReview(), { ca, agent });
      const firstSocket = [...Object.values(agent.freeSockets)].flat()[0];
      await sleep(1500);
      const second = await postHttps(t.server.port, "/validate", patchUpgradeReview(), { ca, agent });
      expect([first.status, second.status]).toEqual([200, 200]);
      expect([...Object.values(agent.freeSockets)].flat()[0]).toBe(firstSocket);

      const { connect } = await import("node:tls");
      const outcome = await new Promise<string>((resolve) => {
        const socket = connect({ host: "127.0.0.1", port: t.server.port, ca, servername: "localhost" }, () => socket.write("POST /validate HTTP/1.1\r\nHost: localhost\r\n"));
        let answer = "";
        socket.on("data", (d: Buffer) => (answer += d.toString()));
        socket.on("close", () => resolve(answer.split("\r\n")[0] ?? ""));
        setTimeout(() => resolve("still open after 10 s"), 10_000).unref();
      });
      expect(outcome).toBe("HTTP/1.1 408 Request Timeout");
    } finally {
      agent.destroy();
      await t.server.close();
    }
  });
});
