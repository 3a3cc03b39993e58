import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { testPki, writeKubeletSecret, type TestPki } from "./certs.js";

export const CLI = join(import.meta.dirname, "..", "..", "dist", "cli", "main.js");

/** A temporary directory with a test CA and a serving certificate mounted the kubelet's way. */
export interface TlsFixture {
  readonly dir: string;
  readonly pki: TestPki;
  readonly ca: string;
  readonly secretDir: string;
  /** TLS_CERT_FILE and TLS_KEY_FILE for the server. */
  readonly env: Record<string, string>;
}

export async function tlsFixture(prefix: string): Promise<TlsFixture> {
  const dir = await mkdtemp(join(tmpdir(), `lifecycle-guard-${prefix}-`));
  const pki = await testPki();
  const leaf = await pki.issue();
  const secretDir = join(dir, "tls");
  await writeKubeletSecret(secretDir, { "tls.crt": leaf.certPem, "tls.key": leaf.keyPem });
  return { dir, pki, ca: pki.ca.certPem, secretDir, env: { TLS_CERT_FILE: join(secretDir, "tls.crt"), TLS_KEY_FILE: join(secretDir, "tls.key") } };
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly opsPort: number;
  readonly exited: Promise<number | null>;
  readonly lines: Record<string, unknown>[];
  rssMiB(): number;
}

/** Starts the built server (`lifecycle-guard serve`) on ephemeral ports and waits until it serves. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [CLI, "serve"], {
    env: { ...process.env, KUBECONFIG: "", PORT: "0", OPS_PORT: "0", HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const lines: Record<string, unknown>[] = [];
  const serving = new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry.msg === "lifecycle-guard is serving") resolve(entry);
    });
    void exited.then((code) => reject(new Error(`server exited with ${code} before serving`)));
  });
  const entry = await serving;
  return {
    child,
    port: entry.port as number,
    opsPort: entry.opsPort as number,
    exited,
    lines,
    rssMiB: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0) / 1024,
  };
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

export function postReview(port: number, body: string, options: { ca: string; agent?: Agent | false; path?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: options.path ?? "/validate?timeout=10s",
        method: "POST",
        ca: options.ca,
        servername: "localhost",
        ...(options.agent !== undefined ? { agent: options.agent } : {}),
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), headers: res.headers }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
