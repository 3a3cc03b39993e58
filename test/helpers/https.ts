import { request as httpRequest } from "node:http";
import { request as httpsRequest, type Agent } from "node:https";
import type { TLSSocket } from "node:tls";

export interface HttpResult {
  /** Serial of the certificate the server presented (HTTPS only). */
  readonly serial?: string;
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** POSTs JSON over HTTPS with Node's own client, trusting `ca`. */
export function postHttps(
  port: number,
  path: string,
  body: unknown,
  options: { ca: string | Buffer; agent?: Agent | false; servername?: string; cert?: string; key?: string },
): Promise<HttpResult> {
  const payload = typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        ca: options.ca,
        servername: options.servername ?? "localhost",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
        ...(options.agent !== undefined ? { agent: options.agent } : {}),
        ...(options.cert ? { cert: options.cert, key: options.key } : {}),
      },
      (res) => {
        const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ serial, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

export function getHttp(port: number, path: string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end();
  });
}
