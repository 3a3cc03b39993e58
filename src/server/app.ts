import Fastify, { LogController, type FastifyError, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Metrics } from "./metrics.js";
import { webhookRoutes, type WebhookOptions } from "./webhook.js";

export interface TlsOptions {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Client CA: when set, clients must present a certificate it signed (mTLS). */
  readonly clientCa?: Buffer;
}

export interface WebhookAppOptions extends WebhookOptions {
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  /** Serve HTTPS with this certificate; plain HTTP when absent (tests that use inject). */
  readonly tls?: TlsOptions;
  readonly keepAliveTimeoutMs?: number;
  readonly headersTimeoutMs?: number;
  /** The whole request, headers and body, must arrive within this; a stalled body is cut (408). */
  readonly requestTimeoutMs?: number;
  /** Body bytes in flight at once; past it, 429 with Retry-After (see admission-gate.ts). */
  readonly maxInFlightBytes?: number;
  /** True while draining: every response then closes its connection. */
  readonly isDraining?: () => boolean;
  readonly metrics?: Metrics;
}

/**
 * TLS 1.3 as it is, and TLS 1.2 only with forward secrecy (ECDHE) and AEAD ciphers: no RSA key
 * exchange, no CBC, no SHA-1 MACs. The API server's Go client offers all of these.
 */
export const CIPHERS = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

/** TLS settings shared by the listener and every certificate reload. */
export function secureContextOptions(tls: TlsOptions): { cert: Buffer; key: Buffer; minVersion: "TLSv1.2"; ciphers: string; honorCipherOrder: true; ca?: Buffer } {
  return { cert: tls.cert, key: tls.key, minVersion: "TLSv1.2", ciphers: CIPHERS, honorCipherOrder: true, ...(tls.clientCa ? { ca: tls.clientCa } : {}) };
}

function plainMessage(error: FastifyError, bodyLimitBytes: number): string {
  switch (error.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return "unsupported Content-Type: send the AdmissionReview as application/json";
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return `request body is larger than ${bodyLimitBytes} bytes (BODY_LIMIT_BYTES)`;
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return "request body is empty: send an AdmissionReview";
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return "request body is not valid JSON";
    default:
      return error.statusCode === 400 ? `request body is not valid JSON: ${error.message}` : error.message;
  }
}

/**
 * The HTTPS application that serves the webhook. Protocol errors get a short plain-text answer
 * with the status the API server understands as "failed call" (400/413/415), never a stack.
 */
export async function buildWebhookApp(options: WebhookAppOptions): Promise<FastifyInstance> {
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger: the decision line carries the review's uid, and a child per
    // request was measurable garbage at thousands of reviews per second.
    childLoggerFactory: (logger) => logger,
    bodyLimit: options.bodyLimitBytes,
    // Fastify sets the server's requestTimeout from its own option (default 0, never), whatever
    // the https options say; without it a body that stalls after the headers is held forever.
    requestTimeout: options.requestTimeoutMs ?? Math.max(headersTimeout, 15_000),
    // `__proto__` and `constructor` are legal JSON keys, and a stored object may hold them in its
    // free-form parts: refusing them (Fastify's default) would make that object uneditable. JSON.parse
    // makes them own properties, which pollute nothing; the rules read keys with Object.hasOwn.
    onProtoPoisoning: "ignore",
    onConstructorPoisoning: "ignore",
    // Longer than the API server's 90 s idle timeout: it, not we, closes idle connections.
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 120_000,
    // While draining, a request on a pooled connection is still answered (with Connection: close),
    // never refused with 503: a refusal is a failed webhook call.
    return503OnClosing: false,
    forceCloseConnections: "idle",
    ...(options.tls
      ? {
          https: {
            ...secureContextOptions(options.tls),
            ...(options.tls.clientCa ? { requestCert: true, rejectUnauthorized: true } : {}),
            headersTimeout,
            // Node enforces the header and request timeouts only on this sweep (30 s by default).
            connectionsCheckingInterval: Math.min(1000, headersTimeout),
          },
        }
      : {}),
  }) as unknown as FastifyInstance;

  // Callback-style hooks: an async hook costs a promise per request on the hot path.
  const isDraining = options.isDraining;
  if (isDraining) {
    app.addHook("onSend", (_request, reply, payload, done) => {
      if (isDraining()) reply.header("connection", "close");
      done(null, payload);
    });
  }
  const metrics = options.metrics;
  if (metrics) {
    app.addHook("onResponse", (request, reply, done) => {
      if (reply.statusCode === 200 && request.routeOptions.url === "/validate") metrics.observeLatency(reply.elapsedTime / 1000);
      done();
    });
  }

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    metrics?.recordBadRequest(status);
    if (status >= 500) request.log.error({ err: error }, "request failed");
    else request.log.info({ status, code: error.code }, "rejected a malformed request");
    return reply
      .code(status)
      .type("text/plain; charset=utf-8")
      .send(`${status >= 500 ? "internal error" : plainMessage(error, options.bodyLimitBytes)}\n`);
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).type("text/plain; charset=utf-8").send(`not found: ${request.method} ${request.url.split("?")[0]}\n`));

  await app.register(webhookRoutes, {
    engineOptions: options.engineOptions,
    onDecision: (record) => {
      metrics?.recordDecision(record);
      options.onDecision?.(record);
    },
    onRejected: (status) => {
      metrics?.recordBadRequest(status);
      options.onRejected?.(status);
    },
    ...(options.deadline ? { deadline: options.deadline } : {}),
    canaryDefaulting: options.canaryDefaulting ?? false,
    ...(options.maxInFlightBytes
      ? { gate: { maxInFlightBytes: options.maxInFlightBytes, bodyLimitBytes: options.bodyLimitBytes, onRefused: (status: number) => metrics?.recordBadRequest(status) } }
      : {}),
  });
  return app;
}
