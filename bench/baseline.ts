/**
 * The floor of this stack: a bare Fastify HTTPS server with lifecycle-guard's TLS and HTTP
 * settings that parses the body and answers every POST with a fixed allowed review. Nothing is
 * decided and nothing is logged; lifecycle-guard is measured against it.
 */
import { readFileSync } from "node:fs";
import Fastify from "fastify";

const ALLOWED = { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: "fixed", allowed: true } };

const app = Fastify({
  logger: false,
  bodyLimit: 16 * 1024 * 1024,
  keepAliveTimeout: 120_000,
  return503OnClosing: false,
  https: {
    cert: readFileSync(process.env.TLS_CERT_FILE as string),
    key: readFileSync(process.env.TLS_KEY_FILE as string),
    minVersion: "TLSv1.2",
    headersTimeout: 10_000,
    requestTimeout: 30_000,
  },
});
app.post("/*", async () => ALLOWED);
await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT) });
process.once("SIGTERM", () => void app.close().then(() => process.exit(0)));
