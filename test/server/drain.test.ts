import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { Agent, request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPki } from "../helpers/certs.js";
import { getHttp, postHttps, type HttpResult } from "../helpers/https.js";
import { patchUpgradeReview } from "../helpers/reviews.js";
import { sleep } from "../helpers/server.js";
import { CLI, startServerProcess, tlsFixture, type ServerProcess, type TlsFixture } from "../helpers/server-process.js";

let pki: TestPki;
let tls: TlsFixture;
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
  tls = await tlsFixture("drain");
  pki = tls.pki;
});
afterAll(async () => rm(tls.dir, { recursive: true, force: true }));

type Started = ServerProcess;

function startProcess(env: Record<string, string>): Promise<Started> {
  return startServerProcess({ ...tls.env, ...env });
}

/** Starts a review whose body arrives in two halves; the second half is sent by `finish()`. */
function slowReview(port: number, uid: string, ca: string, agent: Agent): { finish(): void; result: Promise<HttpResult> } {
  const body = JSON.stringify(patchUpgradeReview({ uid }));
  const half = Math.floor(body.length / 2);
  let finish = (): void => undefined;
  const result = new Promise<HttpResult>((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/validate?timeout=10s", method: "POST", ca, servername: "localhost", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("error", reject);
    req.write(body.slice(0, half));
    finish = () => req.end(body.slice(half));
  });
  return { finish: () => finish(), result };
}

describe("SIGTERM", () => {
  it("drains: readiness 503 at once, in-flight reviews all answered with Connection: close, exit 0", async () => {
    const proc = await startProcess({ SHUTDOWN_DELAY_MS: "500", SHUTDOWN_TIMEOUT_MS: "10000" });
    const ca = pki.ca.certPem;
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    try {
      // Warm a pool of keep-alive connections, as the API server keeps.
      await Promise.all(Array.from({ length: 5 }, (_, i) => postHttps(proc.port, "/validate", patchUpgradeReview({ uid: `warm-${i}` }), { ca, agent })));
      expect((await getHttp(proc.opsPort, "/readyz")).status).toBe(200);

      const inFlight = Array.from({ length: 8 }, (_, i) => slowReview(proc.port, `in-flight-${i}`, ca, agent));
      await sleep(100);
      proc.child.kill("SIGTERM");
      await sleep(100);
      const ready = await getHttp(proc.opsPort, "/readyz");
      expect(ready.status).toBe(503);
      expect(ready.body).toContain("draining");

      // A review that arrives during the drain delay is still answered, and told to reconnect.
      const late = await postHttps(proc.port, "/validate", patchUpgradeReview({ uid: "during-drain" }), { ca, agent: false });
      expect(late.status).toBe(200);
      expect(late.headers.connection).toBe("close");

      for (const review of inFlight) review.finish();
      const results = await Promise.all(inFlight.map((r) => r.result));
      results.forEach((res, i) => {
        expect(res.status).toBe(200);
        expect(JSON.parse(res.body).response).toMatchObject({ uid: `in-flight-${i}`, allowed: true });
        expect(res.headers.connection).toBe("close");
      });
      expect(await proc.exited).toBe(0);
      expect(proc.lines.some((l) => l.msg === "drained")).toBe(true);
    } finally {
      agent.destroy();
      proc.child.kill("SIGKILL");
    }
  });

  it("exits 0 within SHUTDOWN_TIMEOUT_MS even when a client never finishes its request", async () => {
    const proc = await startProcess({ SHUTDOWN_DELAY_MS: "0", SHUTDOWN_TIMEOUT_MS: "500" });
    const agent = new Agent({ keepAlive: true });
    try {
      const stuck = slowReview(proc.port, "stuck", pki.ca.certPem, agent);
      stuck.result.catch(() => undefined);
      await sleep(100);
      const started = Date.now();
      proc.child.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(proc.lines.some((l) => String(l.msg).includes("did not finish in time"))).toBe(true);
    } finally {
      agent.destroy();
      proc.child.kill("SIGKILL");
    }
  });
});
