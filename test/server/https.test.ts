import { mkdtemp, readFile, rm } from "node:fs/promises";
import { Agent } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/server/config.js";
import { startServer, type RunningServer } from "../../src/server/serve.js";
import { getHttp, postHttps } from "../helpers/https.js";
import { minorBumpReview, patchUpgradeReview } from "../helpers/reviews.js";

let dir: string;
let server: RunningServer;
let ca: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lifecycle-guard-https-"));
  // No TLS_CERT_FILE/TLS_KEY_FILE: the development certificate is generated, as on a fresh clone.
  const config = { ...loadConfig({ PORT: "0", OPS_PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent" }), tlsCertFile: join(dir, "certs", "tls.crt"), tlsKeyFile: join(dir, "certs", "tls.key") };
  server = await startServer(config, pino({ level: "silent" }));
  ca = await readFile(join(dir, "certs", "ca.crt"));
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the real server over HTTPS", () => {
  it("reports alive and ready on the operations port", async () => {
    expect((await getHttp(server.opsPort, "/healthz")).status).toBe(200);
    const ready = await getHttp(server.opsPort, "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toBe("ok\n");
  });

  it("answers reviews over keep-alive TLS verified against the generated CA", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const allowed = await postHttps(server.port, "/validate?timeout=10s", patchUpgradeReview({ uid: "https-1" }), { ca, agent });
      expect(allowed.status).toBe(200);
      expect(JSON.parse(allowed.body).response).toMatchObject({ uid: "https-1", allowed: true });
      const denied = await postHttps(server.port, "/validate?timeout=10s", minorBumpReview({ uid: "https-2" }), { ca, agent });
      expect(JSON.parse(denied.body).response).toMatchObject({ uid: "https-2", allowed: false, status: { code: 422, reason: "Invalid" } });
    } finally {
      agent.destroy();
    }
  });

  it("refuses a client that does not trust the CA", async () => {
    await expect(postHttps(server.port, "/validate", patchUpgradeReview(), { ca: "" })).rejects.toThrow();
  });

  it("speaks HTTP/1.1 only, with TLS 1.2 or later", async () => {
    const protocol = await new Promise<string | null>((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port: server.port, ca, servername: "localhost", ALPNProtocols: ["h2", "http/1.1"] }, () => {
        resolve(socket.alpnProtocol === false ? null : socket.alpnProtocol);
        socket.end();
      });
      socket.on("error", reject);
    });
    expect(protocol === null || protocol === "http/1.1").toBe(true);
    await expect(
      new Promise((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port: server.port, ca, servername: "localhost", maxVersion: "TLSv1.1", minVersion: "TLSv1" }, () => resolve(socket));
        socket.on("error", reject);
      }),
    ).rejects.toThrow();
  });
});
