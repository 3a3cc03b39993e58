import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerProcess, tlsFixture, type ServerProcess, type TlsFixture } from "../helpers/server-process.js";

const ROOT = join(import.meta.dirname, "..", "..");
let tls: TlsFixture;
let server: ServerProcess;

beforeAll(async () => {
  tls = await tlsFixture("readme");
  server = await startServerProcess(tls.env);
});
afterAll(async () => {
  server.child.kill("SIGTERM");
  await server.exited;
  await rm(tls.dir, { recursive: true, force: true });
});

describe.runIf(process.platform !== "win32")("the README's quick start", () => {
  it("curl command works as written from the repository's root (the review file ships with it)", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const block = /```sh\n(curl --cacert certs\/ca\.crt[^`]*?)```/.exec(readme)?.[1];
    expect(block, "the curl block of the quick start").toBeDefined();
    const first = (block ?? "").split("\n").filter((l) => l.trim() !== "").slice(0, 2).join("\n").replace(/\\\n\s*/g, "");
    const caFile = join(tls.dir, "ca.crt");
    execFileSync("sh", ["-c", `cat > '${caFile}'`], { input: tls.ca });
    // Only what differs in a test: where the CA is, and the port (0 = any free one).
    const command = first.replace("certs/ca.crt", caFile).replace("https://localhost:8443", `https://localhost:${server.port}`);
    const out = execFileSync("sh", ["-c", command], { cwd: ROOT, encoding: "utf8" });
    const response = JSON.parse(out).response;
    expect(response.allowed).toBe(false);
    expect(response.status).toMatchObject({ code: 403, reason: "Forbidden" });
    expect(response.status.message).toContain("LG102");
  });
});
